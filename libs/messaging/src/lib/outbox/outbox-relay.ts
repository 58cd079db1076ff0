import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { WakeableSleep, fullJitterDelay, type BackoffPolicy } from '../backoff';
import type { MessagePublisher } from '../kafka/message-publisher';
import type { MessagingMetrics } from '../messaging.metrics';

export interface OutboxRelayOptions {
  /** Rows published per transaction. */
  readonly batchSize?: number;
  /** Pause when the outbox is empty, in ms. */
  readonly idlePollMs?: number;
  /** Backoff while Kafka or the database fails. */
  readonly backoff?: BackoffPolicy;
  /** Published rows older than this are deleted, in ms (they are only kept to debug). */
  readonly retentionMs?: number;
}

interface OutboxRow {
  seq: string;
  message_id: string;
  message_type: string;
  correlation_id: string;
  topic: string;
  message_key: string;
  payload: Buffer;
}

const DEFAULTS = {
  batchSize: 500,
  idlePollMs: 20,
  backoff: { baseMs: 100, capMs: 10_000 },
  retentionMs: 60 * 60 * 1000,
} as const;
const HOUSEKEEPING_EVERY_MS = 5_000;

/**
 * Publishes a service's outbox to Kafka, oldest first. One relay at a time per schema holds
 * a transaction-scoped advisory lock, so running several replicas never reorders an
 * aggregate's messages. Rows are marked published only after Kafka acknowledged them: a
 * crash in between publishes them again, and consumers' inboxes drop the duplicates.
 */
export class OutboxRelay {
  private readonly options: Required<OutboxRelayOptions>;
  private readonly sleeper = new WakeableSleep();
  private loop: Promise<void> | undefined;
  private stopping = false;
  private lastHousekeeping = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly publisher: MessagePublisher,
    private readonly metrics: MessagingMetrics,
    private readonly logger: Logger,
    options: OutboxRelayOptions = {},
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** Starts relaying in the background until `stop()`. */
  start(): void {
    if (this.loop) return;
    this.stopping = false;
    this.loop = this.run();
  }

  /** Finishes the batch in progress, then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.sleeper.wake();
    await this.loop;
    this.loop = undefined;
  }

  /** Publishes one batch; returns how many messages it published (0: empty, or another relay holds the lock). */
  async relayOnce(): Promise<number> {
    return this.dataSource.transaction(async (em) => {
      const [lock] = await em.query<{ locked: boolean }[]>(
        `SELECT pg_try_advisory_xact_lock(hashtext('keyfleet.outbox-relay.' || current_schema())) AS locked`,
      );
      if (!lock?.locked) return 0;
      const rows = await em.query<OutboxRow[]>(
        `SELECT seq, message_id, message_type, correlation_id, topic, message_key, payload
           FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1`,
        [this.options.batchSize],
      );
      if (rows.length === 0) return 0;
      await this.publisher.publish(
        rows.map((row) => ({
          topic: row.topic,
          key: row.message_key,
          value: row.payload,
          headers: {
            'keyfleet-id': row.message_id,
            'keyfleet-type': row.message_type,
            'keyfleet-correlation-id': row.correlation_id,
          },
        })),
      );
      await em.query(`UPDATE outbox SET published_at = clock_timestamp() WHERE seq = ANY($1::bigint[])`, [
        rows.map((r) => r.seq),
      ]);
      return rows.length;
    });
  }

  /** Messages waiting to be published. */
  async backlog(): Promise<number> {
    const [row] = await this.dataSource.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL`);
    return row?.n ?? 0;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const published = await this.relayOnce();
        if (failures > 0) this.logger.info({ afterFailures: failures }, 'outbox relay recovered');
        failures = 0;
        await this.housekeeping();
        if (published < this.options.batchSize) await this.sleeper.sleep(this.options.idlePollMs);
      } catch (err) {
        const delay = fullJitterDelay(failures, this.options.backoff);
        failures += 1;
        // Log the first failure and then every tenth, so a long outage does not flood the log.
        if (failures === 1 || failures % 10 === 0) {
          this.logger.warn({ err, failures, retryInMs: delay }, 'outbox relay cannot publish; backlog waits in Postgres');
        }
        await this.sleeper.sleep(delay);
      }
    }
  }

  private async housekeeping(): Promise<void> {
    const now = Date.now();
    if (now - this.lastHousekeeping < HOUSEKEEPING_EVERY_MS) return;
    this.lastHousekeeping = now;
    const schema = String((this.dataSource.options as { schema?: string }).schema ?? 'public');
    this.metrics.outboxBacklog.set({ schema }, await this.backlog());
    await this.dataSource.query(
      `DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < clock_timestamp() - make_interval(secs => $1)`,
      [this.options.retentionMs / 1000],
    );
  }
}

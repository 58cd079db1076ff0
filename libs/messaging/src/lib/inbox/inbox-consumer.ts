import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import { decodeMessage, DEFAULT_MAX_MESSAGE_BYTES, type AnyMessage, type Message } from '@keyfleet/contracts';
import { WakeableSleep, fullJitterDelay, type BackoffPolicy } from '../backoff';
import type { MessagePublisher, OutgoingRecord } from '../kafka/message-publisher';
import type { MessagingMetrics } from '../messaging.metrics';
import { appendToOutbox } from '../outbox/outbox-writer';
import { deadLetterRecord } from './dead-letter';

/** What a handler gets: the transaction its effect must use, and the outbox of that transaction. */
export interface HandlerContext {
  readonly em: EntityManager;
  /** Queues messages caused by this one; they commit with the effect. */
  outbox(messages: readonly Message[]): Promise<void>;
}

/**
 * Applies one message. It runs inside a transaction that also records the message in the
 * inbox: throw to roll both back. It is never called twice for the same message id.
 */
export type MessageHandler = (message: AnyMessage, ctx: HandlerContext) => Promise<void>;

export interface InboxConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly handler: MessageHandler;
  /** The name under which processed ids are recorded; defaults to the group id. */
  readonly consumerName?: string;
  /** Attempts of a failing message before it is dead-lettered; default 3. */
  readonly maxAttempts?: number;
  readonly retryBackoff?: BackoffPolicy;
  /** A new group reads the topic's whole retained history (default) or only what comes next. */
  readonly fromBeginning?: boolean;
  /** Partitions processed at once (each in its own transaction); default 3. */
  readonly partitionsConsumedConcurrently?: number;
  readonly maxMessageBytes?: number;
  /** Prefix of the topics this consumer's handler publishes to through its outbox ('' in production). */
  readonly topicPrefix?: string;
  /**
   * Called after a batch's effects have committed and before its offsets are committed:
   * a hook for instrumentation (and for tests that kill the process at exactly that point).
   */
  readonly onEffectsCommitted?: (messages: readonly AnyMessage[]) => void | Promise<void>;
}

interface Decoded {
  readonly raw: KafkaMessage;
  readonly message: AnyMessage;
}

const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 50, capMs: 1_000 };

/**
 * Kafka consumer with an idempotent inbox and a dead-letter topic.
 *
 * A batch is applied in one transaction (inbox rows + effects) for throughput. If that
 * fails, its messages are applied one by one so a single bad message cannot hold the
 * others back: it is retried with backoff and then dead-lettered with the reason, and the
 * consumer carries on. Invalid bytes are dead-lettered at once. When the database itself is
 * unreachable nothing is dead-lettered: the batch fails, its offsets stay uncommitted and
 * Kafka delivers it again later.
 */
export class InboxConsumer {
  private readonly consumer: Consumer;
  private readonly name: string;
  private readonly sleeper = new WakeableSleep();
  private crashed: string | undefined;
  private joined: Promise<void>;

  constructor(
    kafka: Kafka,
    private readonly dataSource: DataSource,
    private readonly publisher: MessagePublisher,
    private readonly metrics: MessagingMetrics,
    private readonly logger: Logger,
    private readonly options: InboxConsumerOptions,
  ) {
    this.name = options.consumerName ?? options.groupId;
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      maxWaitTimeInMs: 250,
      maxBytes: 10 * 1024 * 1024,
    });
    this.joined = new Promise((resolve) => {
      this.consumer.on(this.consumer.events.GROUP_JOIN, () => resolve());
    });
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      this.crashed = restart ? undefined : error.message;
      this.logger.error({ err: error, restart, group: options.groupId }, 'consumer crashed');
    });
  }

  /** Connects, subscribes and starts consuming in the background. */
  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning ?? true });
    await this.consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 3,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /** Resolves once this consumer has joined its group and got its partitions. */
  waitForJoin(): Promise<void> {
    return this.joined;
  }

  /** Healthy unless the consumer crashed for good. */
  health(): { ok: boolean; detail?: string } {
    return this.crashed ? { ok: false, detail: `consumer stopped: ${this.crashed}` } : { ok: true };
  }

  async stop(): Promise<void> {
    this.sleeper.wake();
    await this.consumer.disconnect();
  }

  private async onBatch(payload: EachBatchPayload) {
    const { batch } = payload;
    if (batch.messages.length === 0 || !payload.isRunning() || payload.isStale()) return;
    const { topic, partition } = batch;
    const group = this.options.groupId;
    const valid: Decoded[] = [];
    const dead: OutgoingRecord[] = [];
    for (const raw of batch.messages) {
      const decoded = decodeMessage(raw.value, this.options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
      if (decoded.ok) valid.push({ raw, message: decoded.message });
      else {
        this.logger.warn({ topic, partition, offset: raw.offset, reason: decoded.error.message }, 'dead-lettering an invalid message');
        dead.push(deadLetterRecord({ topic, partition, message: raw }, group, { code: decoded.error.code, reason: decoded.error.message, attempts: 1 }));
      }
    }
    const applied = await this.applyBatch(valid, topic, partition, dead);
    if (dead.length > 0) {
      await this.publisher.publish(dead);
      for (const record of dead) {
        const reason = record.headers?.['keyfleet-dlq-reason-code'] ?? 'UNKNOWN';
        this.metrics.deadLettered.inc({ topic, group, reason });
      }
      this.metrics.consumed.inc({ topic, group, outcome: 'dead_lettered' }, dead.length);
    }
    await this.options.onEffectsCommitted?.(applied);
    const last = batch.messages[batch.messages.length - 1];
    if (last) payload.resolveOffset(last.offset);
    this.metrics.consumerLag.set({ topic, partition: String(partition), group }, Number(batch.offsetLagLow()));
    await payload.heartbeat();
    await payload.commitOffsetsIfNecessary();
  }

  /** Applies the batch in one transaction, or message by message when that fails. Returns the messages applied now. */
  private async applyBatch(valid: readonly Decoded[], topic: string, partition: number, dead: OutgoingRecord[]): Promise<AnyMessage[]> {
    if (valid.length === 0) return [];
    const group = this.options.groupId;
    try {
      const applied = await this.dataSource.transaction(async (em) => {
        const rows = await em.query<{ message_id: string }[]>(
          `INSERT INTO inbox (consumer, message_id) SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING RETURNING message_id`,
          [this.name, valid.map((d) => d.message.id)],
        );
        const fresh = new Set(rows.map((r) => r.message_id));
        const done: AnyMessage[] = [];
        for (const { message } of valid) {
          if (!fresh.delete(message.id)) continue;
          await this.options.handler(message, this.context(em));
          done.push(message);
        }
        return done;
      });
      this.count(topic, applied.length, valid.length - applied.length);
      return applied;
    } catch (err) {
      this.logger.warn({ err, topic, partition, size: valid.length }, 'batch failed; applying its messages one by one');
    }
    const applied: AnyMessage[] = [];
    for (const decoded of valid) {
      const outcome = await this.applyOne(decoded, topic, partition, group);
      if (outcome === 'applied') applied.push(decoded.message);
      else if (outcome === 'duplicate') this.count(topic, 0, 1);
      else dead.push(outcome);
    }
    this.count(topic, applied.length, 0);
    return applied;
  }

  private async applyOne(
    { raw, message }: Decoded,
    topic: string,
    partition: number,
    group: string,
  ): Promise<'applied' | 'duplicate' | OutgoingRecord> {
    const attempts = this.options.maxAttempts ?? 3;
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        return await this.dataSource.transaction(async (em) => {
          const rows = await em.query<unknown[]>(
            `INSERT INTO inbox (consumer, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING message_id`,
            [this.name, message.id],
          );
          if (rows.length === 0) return 'duplicate' as const;
          await this.options.handler(message, this.context(em));
          return 'applied' as const;
        });
      } catch (err) {
        lastError = err;
        if (attempt < attempts) await this.sleeper.sleep(fullJitterDelay(attempt - 1, this.options.retryBackoff ?? DEFAULT_BACKOFF));
      }
    }
    // A database outage is not the message's fault: fail the batch so it is redelivered.
    await this.assertDatabaseReachable(lastError);
    const reason = lastError instanceof Error ? `${lastError.name}: ${lastError.message}` : 'handler failed';
    this.logger.warn({ err: lastError, topic, partition, offset: raw.offset, messageId: message.id, type: message.type, attempts }, 'dead-lettering a message that keeps failing');
    return deadLetterRecord({ topic, partition, message: raw }, group, { code: 'HANDLER_FAILED', reason, attempts });
  }

  private async assertDatabaseReachable(cause: unknown): Promise<void> {
    try {
      await this.dataSource.query('SELECT 1');
    } catch {
      throw cause;
    }
  }

  private context(em: EntityManager): HandlerContext {
    return { em, outbox: (messages) => appendToOutbox(em, messages, this.options.topicPrefix ?? '') };
  }

  private count(topic: string, processed: number, duplicates: number): void {
    const group = this.options.groupId;
    if (processed > 0) this.metrics.consumed.inc({ topic, group, outcome: 'processed' }, processed);
    if (duplicates > 0) this.metrics.consumed.inc({ topic, group, outcome: 'duplicate' }, duplicates);
  }
}

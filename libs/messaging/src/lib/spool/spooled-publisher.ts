import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { WakeableSleep, fullJitterDelay, type BackoffPolicy } from '../backoff';
import type { OutgoingRecord } from '../kafka/message-publisher';
import { MessagingException, MessagingExceptionCode } from '../messaging.exception';
import { SpoolFile } from './spool-file';
import { SpoolMetrics, type SpoolFailureKind } from './spool.metrics';

/** Where batches go: `MessagePublisher` in production, a fake in unit tests. */
export interface RecordPublisher {
  /** Resolves once Kafka acknowledged every record; rejects otherwise. */
  publish(records: readonly OutgoingRecord[]): Promise<void>;
  /**
   * Called before a retry when present, so a publisher that could not connect (Kafka was
   * down when the service started) gets another chance. Must be a no-op when connected.
   */
  connect?(): Promise<void>;
}

export interface SpooledPublisherOptions {
  readonly publisher: RecordPublisher;
  readonly logger: Logger;
  /** The registry the spool's metrics are registered on. */
  readonly metrics: Registry;
  /** Directory of the spool file; created when missing. */
  readonly spoolDir: string;
  /** Names the spool file (`<name>.spool.jsonl`) and the `spool` metric label. Default `records`. */
  readonly name?: string;
  /** Records per publish. Default 500. */
  readonly maxBatch?: number;
  /** How long a record may wait for a full batch, in ms. Default 50. */
  readonly lingerMs?: number;
  /** Records held in memory; past this the buffer is written to the spool. Default 10,000. */
  readonly maxBuffered?: number;
  /** Backoff between publish attempts while Kafka fails. Default 100 ms growing to 5 s. */
  readonly backoff?: BackoffPolicy;
  /**
   * When the spool cannot be written, keep accepting records on a best-effort basis and
   * count the ones that cannot be kept as dropped, instead of refusing them. Default false.
   */
  readonly failOpen?: boolean;
  /** How long `stop()` tries to publish what is left before spooling it, in ms. Default 5,000. */
  readonly stopTimeoutMs?: number;
  /** How often an unwritable spool is checked again, in ms. Default 5,000. */
  readonly probeIntervalMs?: number;
}

/** A batch taken from memory for a publish; `spooled` once it was also written to disk. */
interface InFlight {
  readonly records: OutgoingRecord[];
  spooled: boolean;
}

const DEFAULTS = {
  name: 'records',
  maxBatch: 500,
  lingerMs: 50,
  maxBuffered: 10_000,
  backoff: { baseMs: 100, capMs: 5_000 },
  failOpen: false,
  stopTimeoutMs: 5_000,
  probeIntervalMs: 5_000,
} as const;
const IDLE_WAKE_MS = 1_000;
const DROP_LOG_EVERY_MS = 60_000;
const SPOOL_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

type State = 'new' | 'running' | 'stopping' | 'stopped';

/**
 * Publishes records in batches from a background loop, so the caller's hot path never
 * waits for Kafka, and keeps them in a local append-only spool file while Kafka cannot take
 * them. Spooled records are delivered first and in order when Kafka is back, and the file
 * is truncated only after Kafka acknowledged them: a crash in between delivers them again
 * (consumers drop duplicates by message id), nothing is lost. A spool left by a previous
 * run is delivered on `start()`.
 *
 * If the spool cannot be written, `submit` refuses records (fail closed) so that the caller
 * can refuse the work the record would describe, unless `failOpen` is set.
 *
 * One instance per spool file and process; it is started once and stopped once.
 */
export class SpooledPublisher {
  private readonly options: Required<Omit<SpooledPublisherOptions, 'publisher' | 'logger' | 'metrics'>>;
  private readonly publisher: RecordPublisher;
  private readonly logger: Logger;
  private readonly metrics: SpoolMetrics;
  private readonly sleeper = new WakeableSleep();
  private state: State = 'new';
  private loop: Promise<void> | undefined;
  private spool: SpoolFile | undefined;
  private spoolWritable = false;
  private buffer: OutgoingRecord[] = [];
  private bufferSince = 0;
  private inFlight: InFlight | undefined;
  private consecutiveFailures = 0;
  private retryAt = 0;
  private lastProbe = 0;
  private droppedSinceLog = 0;
  private lastDropLog = Number.NEGATIVE_INFINITY;

  constructor(options: SpooledPublisherOptions) {
    const { publisher, logger, metrics, ...settings } = options;
    this.options = { ...DEFAULTS, ...settings };
    this.publisher = publisher;
    this.logger = logger;
    if (!SPOOL_NAME.test(this.options.name)) {
      throw new MessagingException(MessagingExceptionCode.SpoolUnavailable, 'a spool name is 1-64 letters, digits, dots, dashes or underscores');
    }
    this.metrics = new SpoolMetrics(metrics);
  }

  /** True while `submit` accepts records: running, and the spool is writable or `failOpen` is set. */
  get accepting(): boolean {
    return this.state === 'running' && (this.spoolWritable || this.options.failOpen);
  }

  /** Records waiting on disk. */
  get spooled(): number {
    return this.spool?.pending ?? 0;
  }

  /** Opens the spool (delivering what a previous run left in it first) and starts the loop. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new MessagingException(MessagingExceptionCode.NotRunning, 'a spooled publisher starts only once');
    await this.probeSpool();
    this.state = 'running';
    this.loop = this.run();
  }

  /**
   * Queues a record without waiting for anything. Throws `MessagingException`:
   * `SpoolUnavailable` when the record could be neither queued nor spooled (fail closed;
   * with `failOpen` it is counted as dropped instead), `NotRunning` outside start/stop.
   */
  submit(record: OutgoingRecord): void {
    if (this.state !== 'running') throw new MessagingException(MessagingExceptionCode.NotRunning, 'the spooled publisher is not running');
    if (!this.spoolWritable && !this.options.failOpen) throw this.unavailable('the spool cannot be written');
    if (this.buffer.length < this.options.maxBuffered) {
      this.buffer.push(record);
      if (this.buffer.length === 1) {
        this.bufferSince = Date.now();
        this.sleeper.wake();
      } else if (this.buffer.length === this.options.maxBatch) {
        this.sleeper.wake();
      }
      return;
    }
    // Memory is full: Kafka is slow or away. Move the buffer to disk, behind what is there.
    if (this.spoolWritable && this.spillOverflow(record)) return;
    if (this.options.failOpen) return this.drop(1);
    throw this.unavailable('the buffer is full and the spool cannot be written');
  }

  /**
   * Stops accepting records, publishes what it can within `timeoutMs`, writes the rest to
   * the spool for the next start and closes it.
   */
  async stop(timeoutMs = this.options.stopTimeoutMs): Promise<void> {
    if (this.state !== 'running') return;
    this.state = 'stopping';
    this.sleeper.wake();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.loop, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
    this.state = 'stopped';
    this.sleeper.wake();
    // A publish still in flight may yet succeed: its records are spooled too, and a
    // duplicate is the price of losing nothing.
    const rest = [...(this.inFlight && !this.inFlight.spooled ? this.inFlight.records : []), ...this.buffer];
    if (rest.length > 0) {
      if (this.spoolWritable && this.appendToSpool(rest)) {
        if (this.inFlight) this.inFlight.spooled = true;
      } else {
        this.logger.error({ lost: rest.length }, 'records could be neither published nor spooled at shutdown');
      }
    }
    this.buffer = [];
    this.refreshGauges();
    await this.spool?.close();
  }

  private async run(): Promise<void> {
    while (this.state === 'running' || this.state === 'stopping') {
      try {
        if (await this.step()) return;
      } catch (err) {
        if (this.isStopped()) return;
        this.logger.error({ err }, 'spooled publisher loop failed; retrying');
        this.scheduleRetry();
      }
    }
  }

  /** One turn of the loop; true when a stop found nothing left to publish. */
  private async step(): Promise<boolean> {
    this.refreshGauges();
    if (!this.spoolWritable && Date.now() - this.lastProbe >= this.options.probeIntervalMs) await this.probeSpool();
    const backingOff = Date.now() < this.retryAt;
    const spoolFirst = this.spooled > 0;
    // While anything waits on disk or Kafka is failing, new records follow them to disk:
    // that keeps the order and makes them durable.
    if ((spoolFirst || backingOff) && this.spoolWritable && this.buffer.length > 0 && this.batchReady()) {
      const records = this.buffer;
      this.buffer = [];
      if (!this.appendToSpool(records)) this.requeue(records);
    }
    if (backingOff) {
      await this.sleeper.sleep(this.nextWakeMs());
    } else if (spoolFirst) {
      await this.deliverSpool();
    } else if (this.buffer.length > 0 && this.batchReady()) {
      await this.publishFromMemory();
    } else if (this.state === 'stopping') {
      return true;
    } else {
      await this.sleeper.sleep(this.nextWakeMs());
    }
    return false;
  }

  private async send(records: readonly OutgoingRecord[]): Promise<void> {
    if (this.consecutiveFailures > 0) await this.publisher.connect?.();
    await this.publisher.publish(records);
  }

  private async deliverSpool(): Promise<void> {
    const spool = this.spool;
    if (!spool) return;
    const chunk = await spool.read(this.options.maxBatch);
    if (this.isStopped()) return;
    if (chunk.lines === 0) throw new Error(`the spool counts ${spool.pending} records but none could be read`);
    try {
      await this.send(chunk.records);
    } catch (err) {
      if (!this.isStopped()) this.publishFailed(err);
      return;
    }
    this.published(chunk.records.length);
    // After stop() the file is closed; its records are delivered again on the next start.
    if (!this.isStopped()) spool.acknowledge(chunk);
  }

  private async publishFromMemory(): Promise<void> {
    const batch: InFlight = { records: this.buffer.splice(0, this.options.maxBatch), spooled: false };
    if (this.buffer.length > 0) this.bufferSince = Date.now();
    this.inFlight = batch;
    try {
      await this.send(batch.records);
      this.published(batch.records.length);
    } catch (err) {
      // After stop() the batch is already in the spool.
      if (this.isStopped()) return;
      this.publishFailed(err);
      if (!batch.spooled && !(this.spoolWritable && this.appendToSpool(batch.records))) this.requeue(batch.records);
    } finally {
      if (this.inFlight === batch) this.inFlight = undefined;
    }
  }

  /** Writes the batch in flight (if any), the buffer and `record` to disk, in that order. */
  private spillOverflow(record: OutgoingRecord): boolean {
    const inFlight = this.inFlight && !this.inFlight.spooled ? this.inFlight : undefined;
    if (!this.appendToSpool([...(inFlight?.records ?? []), ...this.buffer, record])) return false;
    if (inFlight) inFlight.spooled = true;
    this.buffer = [];
    this.sleeper.wake();
    return true;
  }

  private appendToSpool(records: readonly OutgoingRecord[]): boolean {
    if (!this.spool) return false;
    try {
      this.spool.append(records);
    } catch (err) {
      this.spoolFailed(err);
      return false;
    }
    this.metrics.spoolWrites.inc({ spool: this.options.name });
    this.refreshGauges();
    return true;
  }

  /** Puts records that could not be spooled back in front of the buffer (they are older). */
  private requeue(records: OutgoingRecord[]): void {
    if (this.buffer.length === 0) this.bufferSince = Date.now();
    this.buffer = records.concat(this.buffer);
  }

  /** Opens the spool if needed and checks it can be written; sets `spoolWritable`. */
  private async probeSpool(): Promise<void> {
    this.lastProbe = Date.now();
    try {
      if (this.spool) {
        await this.spool.probe();
      } else {
        await mkdir(this.options.spoolDir, { recursive: true, mode: 0o700 });
        const spool = await SpoolFile.open(join(this.options.spoolDir, `${this.options.name}.spool.jsonl`), {
          onUnreadableLine: () => this.countFailure('torn-line'),
          onSyncError: (err) => this.spoolFailed(err),
        });
        // stop() may have run while the file was being opened: then nobody else closes it.
        if (this.isStopped()) return await spool.close();
        this.spool = spool;
        await spool.probe();
      }
    } catch (err) {
      this.spoolFailed(err);
      return;
    }
    if (!this.spoolWritable && this.state !== 'new') this.logger.info({ spool: this.options.name }, 'spool is writable again');
    this.spoolWritable = true;
  }

  private spoolFailed(err: unknown): void {
    this.countFailure('spool-write');
    // Logged on the change only; the next probe says when it is back.
    if (this.spoolWritable || this.state === 'new') {
      this.logger.error(
        { err, spool: this.options.name, failOpen: this.options.failOpen },
        this.options.failOpen ? 'spool cannot be written; records are kept in memory only' : 'spool cannot be written; records are refused',
      );
    }
    this.spoolWritable = false;
  }

  private publishFailed(err: unknown): void {
    this.countFailure('publish');
    const delay = this.scheduleRetry();
    // The first failure and every tenth, so a long outage does not flood the log.
    if (this.consecutiveFailures === 1 || this.consecutiveFailures % 10 === 0) {
      this.logger.warn({ err, failures: this.consecutiveFailures, retryInMs: delay, spooled: this.spooled }, 'cannot publish; records wait in the spool');
    }
  }

  private scheduleRetry(): number {
    const delay = fullJitterDelay(this.consecutiveFailures, this.options.backoff);
    this.consecutiveFailures += 1;
    this.retryAt = Date.now() + delay;
    return delay;
  }

  private published(count: number): void {
    this.metrics.published.inc({ spool: this.options.name }, count);
    if (this.consecutiveFailures > 0) this.logger.info({ afterFailures: this.consecutiveFailures }, 'publishing recovered');
    this.consecutiveFailures = 0;
    this.retryAt = 0;
  }

  private drop(count: number): void {
    this.metrics.dropped.inc({ spool: this.options.name }, count);
    this.droppedSinceLog += count;
    const now = Date.now();
    if (now - this.lastDropLog < DROP_LOG_EVERY_MS) return;
    this.logger.warn({ dropped: this.droppedSinceLog, spool: this.options.name }, 'records dropped: neither memory nor spool could take them (fail open)');
    this.droppedSinceLog = 0;
    this.lastDropLog = now;
  }

  /** A method, not an inline comparison: TypeScript would keep `state` narrowed across awaits. */
  private isStopped(): boolean {
    return this.state === 'stopped';
  }

  private countFailure(kind: SpoolFailureKind): void {
    this.metrics.failures.inc({ spool: this.options.name, kind });
  }

  private batchReady(): boolean {
    return (
      this.state === 'stopping' ||
      this.buffer.length >= this.options.maxBatch ||
      Date.now() - this.bufferSince >= this.options.lingerMs
    );
  }

  private nextWakeMs(): number {
    const now = Date.now();
    let wake = now + IDLE_WAKE_MS;
    if (now < this.retryAt) wake = Math.min(wake, this.retryAt);
    // Records in memory wake the loop when their batch is due, unless they can go nowhere
    // before the retry (spool unwritable while Kafka fails).
    if (this.buffer.length > 0 && (this.spoolWritable || now >= this.retryAt)) wake = Math.min(wake, this.bufferSince + this.options.lingerMs);
    return Math.max(0, wake - now);
  }

  private refreshGauges(): void {
    const inMemory = this.buffer.length + (this.inFlight && !this.inFlight.spooled ? this.inFlight.records.length : 0);
    this.metrics.buffered.set({ spool: this.options.name }, inMemory);
    this.metrics.spooled.set({ spool: this.options.name }, this.spooled);
  }

  private unavailable(reason: string): MessagingException {
    return new MessagingException(MessagingExceptionCode.SpoolUnavailable, reason);
  }
}

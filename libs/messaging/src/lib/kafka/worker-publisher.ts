import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { MessagingException, MessagingExceptionCode } from '../messaging.exception';
import type { MessagingMetrics } from '../messaging.metrics';
import type { KafkaConnectionSettings } from './kafka-client';
import type { MessagePublisherOptions, OutgoingRecord } from './message-publisher';
import {
  errorOfThread,
  packRecords,
  type FromPublisherThread,
  type PublisherCounts,
  type PublisherThreadSettings,
  type ToPublisherThread,
} from './publisher-thread.protocol';

export interface WorkerPublisherOptions {
  readonly kafka: KafkaConnectionSettings;
  readonly publisher?: MessagePublisherOptions;
  /** Where the thread's counts (records acknowledged, producers renewed) are added up. */
  readonly metrics: MessagingMetrics;
  /** kafkajs's log entries arrive here, under `client: kafkajs`. */
  readonly logger: Logger;
}

interface Waiting {
  readonly what: ToPublisherThread['type'];
  resolve(): void;
  reject(err: Error): void;
}

interface Thread {
  readonly worker: Worker;
  readonly waiting: Map<number, Waiting>;
  /** Set by `disconnect()`: its end is expected. */
  stopping: boolean;
  /** Its end was handled ('error' comes before 'exit'). */
  gone: boolean;
}

/**
 * `MessagePublisher` on a worker thread of its own, for a publisher on a hot path: kafkajs
 * encodes every record of a batch (varints, CRC-32C) and answers the brokers on the thread that
 * calls it, which in the crypto gateway is the event loop that also serves every request (9% of
 * it in a profile of AES batches). Here the service's thread only copies a batch's values into
 * one buffer and hands it over.
 *
 * Same contract as `MessagePublisher`: `publish` resolves once Kafka acknowledged every record
 * and throws `MessagingException` otherwise, with the thread's error as its cause. A thread that
 * stops fails what it had in hand (PublishFailed); the next `connect()` starts a new one.
 */
export class WorkerPublisher {
  private thread: Thread | undefined;
  private nextId = 1;
  private readonly kafkaLog: Logger;

  constructor(private readonly options: WorkerPublisherOptions) {
    this.kafkaLog = options.logger.child({ client: 'kafkajs' });
  }

  /** Starts the thread if none runs and connects its producer. */
  async connect(): Promise<void> {
    await this.request(this.thread ?? this.spawn(), { type: 'connect', id: this.nextId++ });
  }

  /** Disconnects the producer and stops the thread. */
  async disconnect(): Promise<void> {
    const thread = this.thread;
    if (!thread) return;
    thread.stopping = true;
    try {
      await this.request(thread, { type: 'disconnect', id: this.nextId++ });
    } finally {
      this.thread = undefined;
      await thread.worker.terminate();
    }
  }

  async publish(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    const thread = this.thread;
    if (!thread) throw new MessagingException(MessagingExceptionCode.NotRunning, 'publisher is not connected');
    const packed = packRecords(records);
    await this.request(thread, { type: 'publish', id: this.nextId++, records: packed }, [packed.bytes]);
  }

  private request(thread: Thread, message: ToPublisherThread, transfer: ArrayBuffer[] = []): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      thread.waiting.set(message.id, { what: message.type, resolve, reject });
      thread.worker.postMessage(message, transfer);
    });
  }

  private spawn(): Thread {
    const entry = workerEntry();
    const workerData: PublisherThreadSettings = { kafka: this.options.kafka, publisher: this.options.publisher ?? {} };
    const worker = new Worker(entry.file, { workerData, ...(entry.execArgv ? { execArgv: entry.execArgv } : {}) });
    const thread: Thread = { worker, waiting: new Map(), stopping: false, gone: false };
    worker.on('message', (message: FromPublisherThread) => this.answer(thread, message));
    const lost = (why: string) => {
      if (thread.gone) return;
      thread.gone = true;
      if (this.thread === thread) this.thread = undefined;
      if (!thread.stopping || thread.waiting.size > 0) {
        this.options.logger.error({ why, requests: thread.waiting.size }, 'the Kafka publisher thread stopped; what it had in hand failed, and the next connect starts another');
      }
      const err = new MessagingException(MessagingExceptionCode.PublishFailed, `the publisher thread stopped (${why})`);
      for (const waiting of thread.waiting.values()) waiting.reject(err);
      thread.waiting.clear();
    };
    worker.on('error', (err) => lost(`${err.name}: ${err.message}`));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    this.thread = thread;
    return thread;
  }

  private answer(thread: Thread, message: FromPublisherThread): void {
    if (message.type === 'log') {
      this.kafkaLog[message.level](message.fields, message.message);
      return;
    }
    this.count(message.counts);
    const waiting = thread.waiting.get(message.id);
    if (!waiting) return;
    thread.waiting.delete(message.id);
    if (message.type === 'done') {
      waiting.resolve();
      return;
    }
    const cause = errorOfThread(message.error);
    // The thread's MessagingException keeps its code; anything else failed the publish.
    const code = Object.values(MessagingExceptionCode).find((c) => c === message.error.code);
    if (code) {
      const reason = message.error.message.startsWith(`${code}: `) ? message.error.message.slice(code.length + 2) : message.error.message;
      waiting.reject(new MessagingException(code, reason, cause.cause ? { cause: cause.cause } : undefined));
    } else {
      waiting.reject(new MessagingException(MessagingExceptionCode.PublishFailed, `${waiting.what} failed in the publisher thread`, { cause }));
    }
  }

  private count(counts: PublisherCounts): void {
    for (const [topic, count] of counts.published) this.options.metrics.published.inc({ topic }, count);
    if (counts.renewals > 0) this.options.metrics.producerRenewals.inc(counts.renewals);
  }
}

/** The compiled worker beside this file, or (under a TypeScript loader: tests, benchmarks) its source. */
function workerEntry(): { file: string; execArgv?: string[] } {
  const compiled = join(__dirname, 'publisher.worker.js');
  if (existsSync(compiled)) return { file: compiled };
  return { file: join(__dirname, 'publisher.worker.ts'), execArgv: ['--require', '@swc-node/register'] };
}

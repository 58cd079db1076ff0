import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import { MessagingException, MessagingExceptionCode } from '../messaging.exception';
import type { MessagingMetrics } from '../messaging.metrics';

/** One record to publish: bytes already encoded and validated by `@keyfleet/contracts`. */
export interface OutgoingRecord {
  readonly topic: string;
  /** The aggregate id: all records of one aggregate go to one partition, in order. */
  readonly key: string;
  readonly value: Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface MessagePublisherOptions {
  /**
   * How batches are compressed on the way to the broker. Default `gzip`. `none` leaves the
   * CPU to the caller's real work: for a producer on a hot path, whose topic is created with
   * a broker-side `compression.type` so the log is still compressed on disk.
   */
  readonly compression?: 'gzip' | 'none';
}

const COMPRESSION = { gzip: CompressionTypes.GZIP, none: CompressionTypes.None } as const;

/**
 * Idempotent Kafka producer: acks from all in-sync replicas, one request in flight per
 * broker (so retries cannot reorder an aggregate's records), gzip compression unless told otherwise.
 */
export class MessagePublisher {
  private readonly producer: Producer;
  private readonly compression: CompressionTypes;
  private connected = false;

  constructor(
    kafka: Pick<Kafka, 'producer'>,
    private readonly metrics: MessagingMetrics,
    options: MessagePublisherOptions = {},
  ) {
    this.compression = COMPRESSION[options.compression ?? 'gzip'];
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.producer.disconnect();
  }

  /**
   * Publishes records in the order given (per partition) and resolves once Kafka has
   * acknowledged all of them. Throws `MessagingException(PublishFailed)` otherwise; the
   * caller decides whether to retry (the outbox relay does, with backoff).
   */
  async publish(records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (!this.connected) {
      throw new MessagingException(MessagingExceptionCode.NotRunning, 'publisher is not connected');
    }
    const byTopic = new Map<string, OutgoingRecord[]>();
    for (const record of records) {
      const list = byTopic.get(record.topic) ?? [];
      list.push(record);
      byTopic.set(record.topic, list);
    }
    try {
      await this.producer.sendBatch({
        acks: -1,
        compression: this.compression,
        topicMessages: [...byTopic].map(([topic, list]) => ({
          topic,
          messages: list.map((r) => ({ key: r.key, value: r.value, headers: { ...r.headers } })),
        })),
      });
    } catch (err) {
      throw new MessagingException(MessagingExceptionCode.PublishFailed, `publishing ${records.length} records failed`, {
        cause: err,
      });
    }
    for (const [topic, list] of byTopic) this.metrics.published.inc({ topic }, list.length);
  }
}

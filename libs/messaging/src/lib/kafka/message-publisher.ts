import { CompressionTypes, Partitioners, type Kafka, type Producer } from 'kafkajs';
import { MessagingException, MessagingExceptionCode } from '../messaging.exception';

/** One record to publish: bytes already encoded and validated by `@keyfleet/contracts`. */
export interface OutgoingRecord {
  readonly topic: string;
  /** The aggregate id: all records of one aggregate go to one partition, in order. */
  readonly key: string;
  readonly value: Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What a publisher counts: `MessagingMetrics` in a service, a tally in the publisher thread. */
export interface PublisherMetrics {
  readonly published: { inc(labels: { topic: string }, value: number): void };
  readonly producerRenewals: { inc(): void };
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
 * Broker answers meaning that the producer's sequence numbers no longer match what the broker
 * holds for its producer id. kafkajs (2.2) never recovers from them by itself: it takes back
 * the sequence numbers of every partition of a failed produce request, also those the broker
 * had appended, so after a partial failure (one partition's leader moving while the broker
 * restarts) each later send is refused. Only a new producer id starts over.
 */
const PRODUCER_STATE_LOST: ReadonlySet<string> = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
]);

/** True when `err` or one of its causes (kafkajs wraps them) is one of PRODUCER_STATE_LOST. */
export function lostProducerState(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const type = (current as { type?: unknown }).type;
    if (typeof type === 'string' && PRODUCER_STATE_LOST.has(type)) return true;
    current = current.cause;
  }
  return false;
}

/**
 * Idempotent Kafka producer: acks from all in-sync replicas, one request in flight per
 * broker (so retries cannot reorder an aggregate's records), gzip compression unless told otherwise.
 * When the broker no longer accepts the producer's sequence numbers, the next publish first
 * replaces the producer with a new one (a new producer id): the failed batch's records are
 * then sent again by the caller, at least once, and consumers drop duplicates by message id.
 */
export class MessagePublisher {
  private producer: Producer;
  private readonly compression: CompressionTypes;
  private connected = false;
  private stale = false;
  private renewal: Promise<void> | undefined;

  constructor(
    private readonly kafka: Pick<Kafka, 'producer'>,
    private readonly metrics: PublisherMetrics,
    options: MessagePublisherOptions = {},
  ) {
    this.compression = COMPRESSION[options.compression ?? 'gzip'];
    this.producer = this.createProducer();
  }

  async connect(): Promise<void> {
    if (this.connected) return;
    await this.producer.connect();
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    if (!this.connected) return;
    this.connected = false;
    await this.renewal?.catch(() => undefined);
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
    if (this.stale || this.renewal) await (this.renewal ??= this.renewProducer().finally(() => (this.renewal = undefined)));
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
      if (lostProducerState(err)) this.stale = true;
      throw new MessagingException(MessagingExceptionCode.PublishFailed, `publishing ${records.length} records failed`, {
        cause: err,
      });
    }
    for (const [topic, list] of byTopic) this.metrics.published.inc({ topic }, list.length);
  }

  private createProducer(): Producer {
    return this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
    });
  }

  /** Disconnects the producer whose state the broker lost and connects a new one in its place. */
  private async renewProducer(): Promise<void> {
    const old = this.producer;
    this.producer = this.createProducer();
    this.stale = false;
    this.metrics.producerRenewals.inc();
    await old.disconnect().catch(() => undefined);
    try {
      await this.producer.connect();
    } catch (err) {
      // Tried again, with yet another producer, by the next publish.
      this.stale = true;
      throw new MessagingException(MessagingExceptionCode.PublishFailed, 'connecting a new producer failed', { cause: err });
    }
  }
}

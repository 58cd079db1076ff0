import { MessageTypes, Topics, createMessage, encodeMessage, type CryptoOperationRecordedV1 } from '@keyfleet/contracts';
import type { OperationAudit } from '@keyfleet/gateway';
import { MessagingException, MessagingExceptionCode, type SpooledPublisher } from '@keyfleet/messaging';
import type { MetricsRegistry } from '@keyfleet/observability';
import { encodeOperationRecord } from './operation-record.encoder';

const SOURCE = 'crypto-gateway';

/** Audit records and gateway events to Kafka through the spool; also the operation metrics. */
export class KafkaOperationAudit implements OperationAudit {
  private readonly operations;
  private readonly latency;
  private readonly opsTopic: string;

  constructor(
    private readonly spool: SpooledPublisher,
    private readonly topicPrefix: string,
    metrics: MetricsRegistry,
  ) {
    this.opsTopic = `${topicPrefix}${Topics.CryptoOps}`;
    this.operations = metrics.counter({ name: 'gateway_operations_total', help: 'Crypto operations by operation and outcome', labelNames: ['operation', 'outcome'] });
    this.latency = metrics.histogram({
      name: 'gateway_operation_seconds',
      help: 'Crypto operation latency',
      labelNames: ['operation'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
    });
  }

  /**
   * The labelled series, looked up once per label set: prom-client hashes the labels object on
   * every inc/observe, twice per operation on the hot path. Bounded: operations and outcomes are enums.
   */
  private readonly counted = new Map<string, { inc(): void }>();
  private readonly timed = new Map<string, { observe(value: number): void }>();

  private series(operation: string, outcome: string): { inc(): void } {
    const key = `${operation}\u0000${outcome}`;
    let series = this.counted.get(key);
    if (!series) this.counted.set(key, (series = this.operations.labels({ operation, outcome })));
    return series;
  }

  private latencyOf(operation: string): { observe(value: number): void } {
    let series = this.timed.get(operation);
    if (!series) this.timed.set(operation, (series = this.latency.labels({ operation })));
    return series;
  }

  get accepting(): boolean {
    return this.spool.accepting;
  }

  record(record: CryptoOperationRecordedV1): boolean {
    // One per operation: encoded without a zod pass (see encodeOperationRecord for why that is sound).
    const { subject, value } = encodeOperationRecord(record, SOURCE);
    try {
      this.spool.submit({ topic: this.opsTopic, key: subject, value });
    } catch (err) {
      // Its buffer full and its file unwritable: the spool says so once in its log; the caller refuses the operation.
      if (err instanceof MessagingException && err.code === MessagingExceptionCode.SpoolUnavailable) return false;
      throw err;
    }
    this.series(record.operation, record.outcome).inc();
    this.latencyOf(record.operation).observe(record.latencyMicros / 1e6);
    return true;
  }

  publishEvent<T extends typeof MessageTypes.CryptoOperationRecordedV1 | typeof MessageTypes.GatewayBreakerStateChangedV1>(
    type: T,
    subject: string,
    data: Parameters<typeof createMessage<T>>[0]['data'],
  ): void {
    const message = createMessage({ type, source: SOURCE, subject, actor: { kind: 'service', id: SOURCE }, data });
    const topic = type === MessageTypes.CryptoOperationRecordedV1 ? Topics.CryptoOps : Topics.GatewayEvents;
    this.spool.submit({ topic: `${this.topicPrefix}${topic}`, key: subject, value: encodeMessage(message) });
  }
}

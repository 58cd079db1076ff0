import { Counter, Gauge, type Registry } from 'prom-client';

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
}

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Gauge<L> {
  return (registry.getSingleMetric(name) as Gauge<L> | undefined) ?? new Gauge({ name, help, labelNames, registers: [registry] });
}

/**
 * Prometheus metrics of the messaging layer. Labels carry topic, group and outcome only:
 * never a message key or payload (they may name keys or users).
 */
export class MessagingMetrics {
  readonly published: Counter<'topic'>;
  readonly producerRenewals: Counter<never>;
  readonly consumed: Counter<'topic' | 'group' | 'outcome'>;
  readonly deadLettered: Counter<'topic' | 'group' | 'reason'>;
  readonly outboxBacklog: Gauge<'schema'>;
  readonly consumerLag: Gauge<'topic' | 'partition' | 'group'>;

  constructor(registry: Registry) {
    this.published = counter(registry, 'keyfleet_messages_published_total', 'Messages acknowledged by Kafka.', ['topic']);
    this.producerRenewals = counter(
      registry,
      'keyfleet_producer_renewals_total',
      'Kafka producers replaced by a new one (new producer id) after the broker lost track of the old one\'s sequence numbers.',
      [],
    );
    this.consumed = counter(
      registry,
      'keyfleet_messages_consumed_total',
      'Messages consumed; outcome processed, duplicate (already in the inbox) or dead_lettered.',
      ['topic', 'group', 'outcome'],
    );
    this.deadLettered = counter(
      registry,
      'keyfleet_messages_dead_lettered_total',
      'Messages sent to a dead-letter topic, by reason code.',
      ['topic', 'group', 'reason'],
    );
    this.outboxBacklog = gauge(registry, 'keyfleet_outbox_backlog', 'Outbox messages not yet published.', ['schema']);
    this.consumerLag = gauge(
      registry,
      'keyfleet_consumer_lag',
      'Messages behind the end of the partition, at the last batch.',
      ['topic', 'partition', 'group'],
    );
  }
}

import { Counter, Gauge, type Registry } from 'prom-client';

/** Why a spooled publisher counted a failure. */
export type SpoolFailureKind = 'publish' | 'spool-write' | 'torn-line';

function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Counter<L> {
  return (registry.getSingleMetric(name) as Counter<L> | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
}

function gauge<L extends string>(registry: Registry, name: string, help: string, labelNames: L[]): Gauge<L> {
  return (registry.getSingleMetric(name) as Gauge<L> | undefined) ?? new Gauge({ name, help, labelNames, registers: [registry] });
}

/**
 * Prometheus metrics of `SpooledPublisher`, labelled by spool name only (never a key or a
 * payload). Several publishers may share one registry: each reuses the metric another one
 * registered and writes its own `spool` label.
 */
export class SpoolMetrics {
  readonly buffered: Gauge<'spool'>;
  readonly spooled: Gauge<'spool'>;
  readonly published: Counter<'spool'>;
  readonly spoolWrites: Counter<'spool'>;
  readonly failures: Counter<'spool' | 'kind'>;
  readonly dropped: Counter<'spool'>;

  constructor(registry: Registry) {
    this.buffered = gauge(registry, 'keyfleet_spool_buffered', 'Records held in memory, waiting to be published or spooled.', ['spool']);
    this.spooled = gauge(registry, 'keyfleet_spool_spooled', 'Records in the spool file, waiting for Kafka.', ['spool']);
    this.published = counter(registry, 'keyfleet_spool_published_total', 'Records acknowledged by Kafka (redeliveries included).', [
      'spool',
    ]);
    this.spoolWrites = counter(registry, 'keyfleet_spool_writes_total', 'Batches appended to the spool file and synced to disk.', ['spool']);
    this.failures = counter(
      registry,
      'keyfleet_spool_failures_total',
      'Failures by kind: publish (Kafka refused a batch), spool-write (disk), torn-line (an unreadable spool line skipped).',
      ['spool', 'kind'],
    );
    this.dropped = counter(registry, 'keyfleet_spool_dropped_total', 'Records dropped in fail-open mode because they could not be kept.', [
      'spool',
    ]);
  }
}

import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  Histogram,
  Registry,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
} from 'prom-client';
import { ObservabilityException, ObservabilityExceptionCode } from './observability.exception';

/** Every keyfleet metric name starts with this, so dashboards can select ours. */
export const METRIC_PREFIX = 'keyfleet_';

type MetricConfig<C> = Omit<C, 'registers' | 'name'> & { readonly name: string };

/**
 * The Prometheus registry of one process (create one per process, at start-up): Node.js
 * default metrics named `keyfleet_*`, and a `service` label on every series.
 *
 * It is a prom-client `Registry`, so code that takes a `Registry` accepts it. The
 * `counter`/`gauge`/`histogram` helpers add the `keyfleet_` prefix when a name lacks it
 * and return the existing metric when the name is already registered, so a component
 * that is constructed twice does not fail on "metric already registered".
 */
export class MetricsRegistry extends Registry {
  constructor(readonly service: string) {
    super();
    this.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this, prefix: METRIC_PREFIX });
  }

  /** A counter named `keyfleet_<name>` (prefix added if missing). */
  counter<L extends string = string>(config: MetricConfig<CounterConfiguration<L>>): Counter<L> {
    return this.getOrCreate(config.name, Counter, (name) => new Counter<L>({ ...config, name, registers: [this] }));
  }

  /** A gauge named `keyfleet_<name>` (prefix added if missing). */
  gauge<L extends string = string>(config: MetricConfig<GaugeConfiguration<L>>): Gauge<L> {
    return this.getOrCreate(config.name, Gauge, (name) => new Gauge<L>({ ...config, name, registers: [this] }));
  }

  /** A histogram named `keyfleet_<name>` (prefix added if missing). */
  histogram<L extends string = string>(config: MetricConfig<HistogramConfiguration<L>>): Histogram<L> {
    return this.getOrCreate(config.name, Histogram, (name) => new Histogram<L>({ ...config, name, registers: [this] }));
  }

  private getOrCreate<M>(rawName: string, kind: abstract new (...args: never[]) => M, create: (name: string) => M): M {
    const name = rawName.startsWith(METRIC_PREFIX) ? rawName : `${METRIC_PREFIX}${rawName}`;
    const existing: unknown = this.getSingleMetric(name);
    if (existing === undefined) return create(name);
    if (existing instanceof kind) return existing;
    throw new ObservabilityException(ObservabilityExceptionCode.MetricConflict, `metric ${name} is already registered as another kind`);
  }
}

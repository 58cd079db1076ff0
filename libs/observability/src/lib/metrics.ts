import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * The Prometheus registry of one process: default Node.js metrics prefixed `keyfleet_`
 * and a `service` label on every series.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: 'keyfleet_' });
  return registry;
}

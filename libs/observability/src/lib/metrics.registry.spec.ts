import { Counter } from 'prom-client';
import { MetricsRegistry } from './metrics.registry';
import { ObservabilityException } from './observability.exception';

describe(MetricsRegistry.name, () => {
  let sut: MetricsRegistry;

  beforeEach(() => {
    sut = new MetricsRegistry('key-service');
  });

  it('exposes Node.js default metrics named keyfleet_ with the service label', async () => {
    expect(await sut.metrics()).toContain('keyfleet_process_cpu_user_seconds_total{service="key-service"}');
  });

  it('outputs a registered counter with its value', async () => {
    sut.counter({ name: 'keys_registered_total', help: 'Keys registered.', labelNames: ['type'] }).inc({ type: 'aes-256' }, 2);
    expect(await sut.metrics()).toContain('keyfleet_keys_registered_total{type="aes-256",service="key-service"} 2');
  });

  it('does not prefix a name twice', async () => {
    sut.gauge({ name: 'keyfleet_sessions_open', help: 'Open sessions.' }).set(4);
    expect(await sut.metrics()).toContain('keyfleet_sessions_open{service="key-service"} 4');
  });

  it('returns the existing metric when a name is registered again', () => {
    const first = sut.histogram({ name: 'op_seconds', help: 'Operation time.' });
    expect(sut.histogram({ name: 'op_seconds', help: 'Operation time.' })).toBe(first);
  });

  it('refuses a name already used by another kind of metric', () => {
    sut.counter({ name: 'things', help: 'Things.' });
    expect(() => sut.gauge({ name: 'things', help: 'Things.' })).toThrow(ObservabilityException);
  });

  it('is a prom-client registry, so plain prom-client metrics can register in it', async () => {
    new Counter({ name: 'keyfleet_plain_total', help: 'Plain.', registers: [sut] }).inc();
    expect(await sut.metrics()).toContain('keyfleet_plain_total{service="key-service"} 1');
  });
});

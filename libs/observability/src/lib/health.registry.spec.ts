import { HealthRegistry, describeFailure } from './health.registry';
import { ObservabilityException } from './observability.exception';

describe(HealthRegistry.name, () => {
  let sut: HealthRegistry;

  beforeEach(() => {
    sut = new HealthRegistry();
  });

  it('is ok with no checks at all', async () => {
    expect(await sut.report()).toEqual({ status: 'ok', checks: {} });
  });

  it('is ok when every check passes', async () => {
    sut.register({ name: 'postgres', check: async () => ({ ok: true }) });
    sut.register({ name: 'kafka', check: async () => ({ ok: true, detail: '3 consumers' }) });
    expect(await sut.report()).toEqual({ status: 'ok', checks: { postgres: { ok: true }, kafka: { ok: true, detail: '3 consumers' } } });
  });

  it('is unavailable when one check fails, and says which', async () => {
    sut.register({ name: 'postgres', check: async () => ({ ok: true }) });
    sut.register({ name: 'kafka', check: async () => ({ ok: false, detail: 'consumer stopped' }) });
    expect(await sut.report()).toEqual({
      status: 'unavailable',
      checks: { postgres: { ok: true }, kafka: { ok: false, detail: 'consumer stopped' } },
    });
  });

  it('counts a throwing check as failed and gives the reason without the credentials in it', async () => {
    sut.register({
      name: 'postgres',
      check: () => {
        throw Object.assign(new Error('connect to postgres://keyfleet:hunter2@db:5432/k failed, password=hunter3'), { code: 'ECONNREFUSED' });
      },
    });
    const report = await sut.report();
    expect(report).toEqual({
      status: 'unavailable',
      checks: { postgres: { ok: false, detail: 'Error ECONNREFUSED: connect to postgres://***@db:5432/k failed, password=***' } },
    });
  });

  it('counts a rejected check as failed', async () => {
    sut.register({ name: 'kafka', check: () => Promise.reject(new TypeError('broker gone')) });
    expect(await sut.report()).toEqual({ status: 'unavailable', checks: { kafka: { ok: false, detail: 'TypeError: broker gone' } } });
  });

  it('counts a check that takes longer than the timeout as failed, without waiting for it', async () => {
    sut.register({ name: 'slow', check: () => new Promise(() => undefined) });
    sut.register({ name: 'fast', check: async () => ({ ok: true }) });
    const started = Date.now();
    expect(await sut.report(50)).toEqual({
      status: 'unavailable',
      checks: { slow: { ok: false, detail: 'no answer within 50 ms' }, fast: { ok: true } },
    });
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('refuses two checks under one name', () => {
    sut.register({ name: 'postgres', check: async () => ({ ok: true }) });
    expect(() => sut.register({ name: 'postgres', check: async () => ({ ok: true }) })).toThrow(ObservabilityException);
  });
});

describe(describeFailure.name, () => {
  it.each([
    [new Error('pin: 1234 rejected'), 'Error: pin: *** rejected'],
    [new Error('token="abc def" expired'), 'Error: token=*** expired'],
    [new Error('x'.repeat(300)), `Error: ${'x'.repeat(193)}...`],
    ['a thrown string', 'check failed'],
  ])('describes %p as %p', (err, detail) => {
    expect(describeFailure(err)).toBe(detail);
  });
});

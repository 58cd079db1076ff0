import { HealthRegistry } from './health.registry';

describe(HealthRegistry.name, () => {
  let sut: HealthRegistry;

  beforeEach(() => {
    sut = new HealthRegistry();
  });

  it('is ok when every check passes', async () => {
    sut.register({ name: 'postgres', check: () => ({ ok: true }) });
    sut.register({ name: 'kafka', check: async () => ({ ok: true, detail: '3 consumers' }) });
    expect(await sut.report()).toEqual({ status: 'ok', checks: { postgres: { ok: true }, kafka: { ok: true, detail: '3 consumers' } } });
  });

  it('is unavailable when one check fails, and says which', async () => {
    sut.register({ name: 'postgres', check: () => ({ ok: true }) });
    sut.register({ name: 'kafka', check: () => ({ ok: false, detail: 'consumer stopped' }) });
    expect(await sut.report()).toMatchObject({ status: 'unavailable', checks: { kafka: { ok: false, detail: 'consumer stopped' } } });
  });

  it('counts a throwing check as failed without leaking its message', async () => {
    sut.register({
      name: 'postgres',
      check: () => {
        throw new TypeError('password authentication failed for secret-ish detail');
      },
    });
    expect(await sut.report()).toEqual({ status: 'unavailable', checks: { postgres: { ok: false, detail: 'TypeError' } } });
  });

  it('counts a check that does not answer in time as failed', async () => {
    sut.register({ name: 'slow', check: () => new Promise(() => undefined) });
    expect(await sut.report(20)).toEqual({ status: 'unavailable', checks: { slow: { ok: false, detail: 'no answer within 20 ms' } } });
  });
});

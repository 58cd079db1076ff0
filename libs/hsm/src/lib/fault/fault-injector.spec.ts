import { HsmExceptionCode } from '../hsm.exception';
import { FaultInjector } from './fault-injector';

describe(FaultInjector.name, () => {
  it('lets everything through until faults are set', async () => {
    const sut = new FaultInjector(() => 0);

    await expect(sut.before()).resolves.toBeUndefined();
  });

  it('fails the configured share of operations with a retryable injected fault', async () => {
    const draws = [0.1, 0.3, 0.19, 0.9];
    const sut = new FaultInjector(() => draws.shift() ?? 1);
    sut.set({ errorRate: 0.2 });

    const outcomes = await Promise.all([sut.before(), sut.before(), sut.before(), sut.before()].map((p) => p.then(() => 'ok', (e: { code: string; retryable: boolean }) => `${e.code}:${e.retryable}`)));

    expect(outcomes).toEqual(['INJECTED_FAULT:true', 'ok', 'INJECTED_FAULT:true', 'ok']);
  });

  it('holds operations while hanging and releases them when cleared', async () => {
    const sut = new FaultInjector();
    sut.set({ hang: true });
    let released = false;
    const held = sut.before().then(() => (released = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(released).toBe(false);

    sut.clear();
    await held;
    expect(released).toBe(true);
  });

  it('refuses an error rate outside 0..1', () => {
    let code: string | undefined;
    try {
      new FaultInjector().set({ errorRate: 1.5 });
    } catch (err) {
      code = (err as { code: string }).code;
    }
    expect(code).toBe(HsmExceptionCode.InvalidInput);
  });
});

import { ResilienceException, ResilienceExceptionCode } from '../resilience.exception';
import { ClusterBreaker, type ClusterBreakerOptions } from './cluster-breaker';

class CallerMistake extends Error {}

const RESET_MS = 1_000;
const WINDOW_MS = 10_000;

/** Work that runs until the test settles it. */
function pending<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (err: Error) => void } {
  let resolve: (value: T) => void = () => undefined;
  let reject: (err: Error) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe(ClusterBreaker.name, () => {
  let sut: ClusterBreaker;
  let transitions: string[];
  let clock: number;

  function create(overrides: Partial<ClusterBreakerOptions> = {}): ClusterBreaker {
    const breaker = new ClusterBreaker('blue', {
      errorThresholdPercentage: 50,
      rollingWindowMs: WINDOW_MS,
      buckets: 10,
      resetTimeoutMs: RESET_MS,
      volumeThreshold: 10,
      countsAsFailure: (err) => !(err instanceof CallerMistake),
      now: () => clock,
      ...overrides,
    });
    breaker.onStateChange((from, to, at) => transitions.push(`${from}->${to}@${at}`));
    return breaker;
  }

  const fail = (times = 1) => Promise.all(Array.from({ length: times }, () => sut.fire(() => Promise.reject(new Error('device error'))).catch(() => undefined)));
  const succeed = (times = 1) => Promise.all(Array.from({ length: times }, () => sut.fire(() => Promise.resolve('ok'))));
  const states = () => transitions.map((t) => t.split('@')[0]);

  beforeEach(() => {
    jest.useFakeTimers();
    clock = 5_000;
    transitions = [];
    sut = create();
  });

  afterEach(() => {
    sut.shutdown();
    jest.useRealTimers();
  });

  it('stays closed below the volume threshold however bad the error rate, and opens when it is reached', async () => {
    await fail(9);
    expect(sut.state).toBe('closed');

    await fail();

    expect(sut.state).toBe('open');
    expect(transitions).toEqual(['closed->open@5000']);
  });

  it('opens only when the error rate is above the threshold, not at it', async () => {
    await succeed(5);
    await fail(5);
    expect(sut.errorPercentage).toBe(50);
    expect(sut.state).toBe('closed');

    await fail();

    expect(sut.state).toBe('open');
  });

  it('fails fast with CircuitOpen while open, without running the work', async () => {
    await fail(10);
    let ran = false;

    const refused = await sut
      .fire(() => {
        ran = true;
        return Promise.resolve();
      })
      .catch((err: unknown) => err);

    expect(refused).toBeInstanceOf(ResilienceException);
    expect(refused).toMatchObject({ code: ResilienceExceptionCode.CircuitOpen });
    expect(ran).toBe(false);
  });

  it('does not count errors that are the caller\'s fault, but still passes them on', async () => {
    for (let i = 0; i < 30; i += 1) {
      await expect(sut.fire(() => Promise.reject(new CallerMistake('unknown alias')))).rejects.toBeInstanceOf(CallerMistake);
    }

    expect(sut.state).toBe('closed');
    expect(sut.errorPercentage).toBe(0);
  });

  it('forgets failures once they leave the rolling window', async () => {
    await fail(9);
    jest.advanceTimersByTime(WINDOW_MS);

    await fail(9);

    // 18 failures in all, but never 10 within one window.
    expect(sut.state).toBe('closed');
  });

  it('turns half-open after the reset timeout and lets exactly one probe through', async () => {
    await fail(10);
    jest.advanceTimersByTime(RESET_MS - 1);
    expect(sut.state).toBe('open');
    clock = 6_000;
    jest.advanceTimersByTime(1);
    expect(sut.state).toBe('half-open');

    const probe = pending<string>();
    const probeCall = sut.fire(() => probe.promise);
    let secondRan = false;
    const second = sut.fire(() => {
      secondRan = true;
      return Promise.resolve('second');
    });

    await expect(second).rejects.toMatchObject({ code: ResilienceExceptionCode.CircuitOpen });
    expect(secondRan).toBe(false);
    probe.resolve('probe ok');
    await expect(probeCall).resolves.toBe('probe ok');
    expect(sut.state).toBe('closed');
    expect(transitions).toEqual(['closed->open@5000', 'open->half-open@6000', 'half-open->closed@6000']);
  });

  it('opens again when the probe fails, then closes after a later probe succeeds', async () => {
    await fail(10);
    jest.advanceTimersByTime(RESET_MS);

    await fail();
    expect(sut.state).toBe('open');
    await expect(succeed()).rejects.toMatchObject({ code: ResilienceExceptionCode.CircuitOpen });
    jest.advanceTimersByTime(RESET_MS);
    await succeed();

    expect(sut.state).toBe('closed');
    expect(states()).toEqual(['closed->open', 'open->half-open', 'half-open->open', 'open->half-open', 'half-open->closed']);
  });

  it('starts a fresh window when it closes, so one failure after recovery does not reopen it', async () => {
    await fail(10);
    jest.advanceTimersByTime(RESET_MS);
    await succeed();

    await fail(9);

    expect(sut.state).toBe('closed');
    await fail();
    expect(sut.state).toBe('open');
  });

  it('treats a probe answered with a caller mistake as a sign of life and closes', async () => {
    await fail(10);
    jest.advanceTimersByTime(RESET_MS);

    await expect(sut.fire(() => Promise.reject(new CallerMistake('bad tag')))).rejects.toBeInstanceOf(CallerMistake);

    expect(sut.state).toBe('closed');
  });

  it('reports each transition once when many concurrent calls fail together', async () => {
    const calls = Array.from({ length: 25 }, () => pending<void>());
    const fired = calls.map((c) => sut.fire(() => c.promise).catch(() => undefined));

    for (const call of calls) call.reject(new Error('device error'));
    await Promise.all(fired);
    await fail(5);

    expect(sut.state).toBe('open');
    expect(transitions).toEqual(['closed->open@5000']);
  });

  it('passes errors of the work through unchanged, even ones with opossum-like codes', async () => {
    const err = Object.assign(new Error('socket closed'), { code: 'ESHUTDOWN' });

    await expect(sut.fire(() => Promise.reject(err))).rejects.toBe(err);
  });

  it('leaves no timer running after shutdown, even while open, and refuses later calls with Closed', async () => {
    await fail(10);
    expect(jest.getTimerCount()).toBeGreaterThan(0);

    sut.shutdown();

    expect(jest.getTimerCount()).toBe(0);
    await expect(succeed()).rejects.toMatchObject({ code: ResilienceExceptionCode.Closed });
  });
});

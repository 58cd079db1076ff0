import { ResilienceException, ResilienceExceptionCode } from '../resilience.exception';
import { retry, type RetryAttempt, type RetryInfo, type RetryOptions } from './retry';
import { RetryBudget } from './retry-budget';

class DeviceError extends Error {
  constructor(
    readonly retryable: boolean,
    readonly attempt = -1,
  ) {
    super(retryable ? 'device busy' : 'bad input');
  }
}

interface Harness extends RetryOptions {
  readonly slept: number[];
}

function options(overrides: Partial<RetryOptions> = {}): Harness {
  const slept: number[] = [];
  return {
    policy: { attempts: 4, baseMs: 10, capMs: 100 },
    isRetryable: (err) => err instanceof DeviceError && err.retryable,
    random: () => 0.5,
    sleep: (ms) => {
      slept.push(ms);
      return Promise.resolve();
    },
    slept,
    ...overrides,
  };
}

/** Work that fails with a retryable error on every attempt, counting its calls. */
function alwaysFailing(): { calls: () => number; work: (a: RetryAttempt) => Promise<never> } {
  let calls = 0;
  return {
    calls: () => calls,
    work: ({ index }) => {
      calls += 1;
      return Promise.reject(new DeviceError(true, index));
    },
  };
}

describe(retry.name, () => {
  it('retries retryable failures with jittered backoff and returns the first success', async () => {
    const opts = options();
    const seen: number[] = [];

    const sut = await retry(({ index }) => {
      seen.push(index);
      return index < 2 ? Promise.reject(new DeviceError(true)) : Promise.resolve(`done at ${index}`);
    }, opts);

    expect(sut).toBe('done at 2');
    expect(seen).toEqual([0, 1, 2]);
    // random 0.5 of ceilings 10 and 20.
    expect(opts.slept).toEqual([5, 10]);
  });

  it('does not sleep or retry when the first attempt succeeds', async () => {
    const opts = options();

    await expect(retry(() => Promise.resolve('ok'), opts)).resolves.toBe('ok');
    expect(opts.slept).toEqual([]);
  });

  it('stops at the attempt limit and rethrows the last error itself', async () => {
    const { calls, work } = alwaysFailing();

    const error = await retry(work, options()).catch((err: unknown) => err);

    expect(calls()).toBe(4);
    expect(error).toBeInstanceOf(DeviceError);
    expect((error as DeviceError).attempt).toBe(3);
  });

  it('makes exactly one attempt when attempts is 1', async () => {
    const { calls, work } = alwaysFailing();

    await expect(retry(work, options({ policy: { attempts: 1, baseMs: 10, capMs: 100 } }))).rejects.toBeInstanceOf(DeviceError);
    expect(calls()).toBe(1);
  });

  it('does not retry an error that is not retryable', async () => {
    let calls = 0;

    await expect(
      retry(() => {
        calls += 1;
        return Promise.reject(new DeviceError(false));
      }, options()),
    ).rejects.toThrow('bad input');
    expect(calls).toBe(1);
  });

  it('gives up with the last error when the next delay would reach the deadline', async () => {
    let now = 1_000;
    const { calls, work } = alwaysFailing();
    const opts = options({
      now: () => now,
      deadline: 1_025,
      random: () => 0.99,
      sleep: (ms) => {
        now += ms;
        return Promise.resolve();
      },
    });

    const error = await retry(work, opts).catch((err: unknown) => err);

    // Delays 9 (1,000 -> 1,009) and 19 (1,009 + 19 = 1,028 >= 1,025, so no second retry).
    expect(calls()).toBe(2);
    expect((error as DeviceError).attempt).toBe(1);
    expect(now).toBeLessThan(1_025);
  });

  it('refuses to start once the deadline has passed', async () => {
    let ran = false;

    const error = await retry(
      () => {
        ran = true;
        return Promise.resolve(1);
      },
      options({ now: () => 10, deadline: 5 }),
    ).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(ResilienceException);
    expect(error).toMatchObject({ code: ResilienceExceptionCode.DeadlineExceeded });
    expect(ran).toBe(false);
  });

  it('stops retrying when the budget is empty', async () => {
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 0, now: () => 0 });
    const { calls, work } = alwaysFailing();

    await expect(retry(work, options({ budget }))).rejects.toBeInstanceOf(DeviceError);
    expect(calls()).toBe(1);
  });

  it('keeps retries within the budget when a dependency fails outright (no retry storm)', async () => {
    let now = 0;
    const budget = new RetryBudget({ ratio: 0.1, minRetriesPerSecond: 5, now: () => now });
    const { calls, work } = alwaysFailing();
    const opts = options({ budget, policy: { attempts: 3, baseMs: 0, capMs: 0 }, now: () => now });

    for (let i = 0; i < 10_000; i += 1) {
      now += 1; // 10,000 requests over 10 s
      await expect(retry(work, opts)).rejects.toBeInstanceOf(DeviceError);
    }
    const retries = calls() - 10_000;

    // ratio x requests + the minimum per second over 10 s + the starting minimum.
    expect(retries).toBeLessThanOrEqual(0.1 * 10_000 + 5 * 10 + 5);
    expect(retries).toBeGreaterThanOrEqual(0.1 * 10_000);
  });

  it('takes no budget token for a retry the deadline forbids', async () => {
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 3, now: () => 0 });

    await expect(retry(alwaysFailing().work, options({ budget, now: () => 0, deadline: 1, random: () => 0.5 }))).rejects.toBeInstanceOf(DeviceError);
    expect(budget.balance).toBe(3);
  });

  it('tells onRetry about each retry before it happens', async () => {
    const infos: RetryInfo[] = [];

    await expect(retry(alwaysFailing().work, options({ onRetry: (info) => infos.push(info) }))).rejects.toBeInstanceOf(DeviceError);

    expect(infos.map(({ index, delayMs }) => ({ index, delayMs }))).toEqual([
      { index: 1, delayMs: 5 },
      { index: 2, delayMs: 10 },
      { index: 3, delayMs: 20 },
    ]);
    expect(infos.map(({ error }) => (error as DeviceError).attempt)).toEqual([0, 1, 2]);
  });

  it('lets later attempts see the targets earlier attempts excluded', async () => {
    const clusters = ['blue', 'green', 'red'];
    const picked: string[] = [];

    const sut = await retry((attempt) => {
      const cluster = clusters.find((c) => !attempt.excluded.has(c)) ?? 'none';
      picked.push(cluster);
      attempt.exclude(cluster);
      return cluster === 'red' ? Promise.resolve(cluster) : Promise.reject(new DeviceError(true));
    }, options());

    expect(sut).toBe('red');
    expect(picked).toEqual(['blue', 'green', 'red']);
  });

  it('refuses to start when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('client went away'));
    const { calls, work } = alwaysFailing();

    await expect(retry(work, options({ signal: controller.signal }))).rejects.toMatchObject({ code: ResilienceExceptionCode.Aborted });
    expect(calls()).toBe(0);
  });

  it('stops after an abort during backoff and rethrows the last error', async () => {
    const controller = new AbortController();
    const { calls, work } = alwaysFailing();
    const opts = options({
      signal: controller.signal,
      sleep: () => {
        controller.abort();
        return Promise.resolve();
      },
    });

    await expect(retry(work, opts)).rejects.toBeInstanceOf(DeviceError);
    expect(calls()).toBe(1);
  });

  it('wakes from a real backoff sleep as soon as the signal aborts', async () => {
    const controller = new AbortController();
    const { calls, work } = alwaysFailing();
    const opts: RetryOptions = {
      policy: { attempts: 3, baseMs: 60_000, capMs: 60_000 },
      isRetryable: () => true,
      random: () => 0.99,
      signal: controller.signal,
      onRetry: () => setImmediate(() => controller.abort()),
    };

    // Without the wake-up this would wait about a minute and jest would time out.
    await expect(retry(work, opts)).rejects.toBeInstanceOf(DeviceError);
    expect(calls()).toBe(1);
  });

  describe('continuing after a first attempt made elsewhere', () => {
    it('backs off first and runs work from index 1', async () => {
      const opts = options({ firstFailure: { error: new DeviceError(true) } });
      const seen: number[] = [];

      const sut = await retry(({ index }) => {
        seen.push(index);
        return Promise.resolve(`done at ${index}`);
      }, opts);

      expect(sut).toBe('done at 1');
      expect(seen).toEqual([1]);
      expect(opts.slept).toEqual([5]);
    });

    it('rethrows a first failure that is not retryable without calling work', async () => {
      const { calls, work } = alwaysFailing();
      const first = new DeviceError(false);

      await expect(retry(work, options({ firstFailure: { error: first } }))).rejects.toBe(first);
      expect(calls()).toBe(0);
    });

    it('counts the first attempt against the attempts and asks the budget before the first retry', async () => {
      const { calls, work } = alwaysFailing();
      await expect(retry(work, options({ policy: { attempts: 2, baseMs: 1, capMs: 1 }, firstFailure: { error: new DeviceError(true) } }))).rejects.toBeInstanceOf(DeviceError);
      expect(calls()).toBe(1);

      const spent = new RetryBudget({ ratio: 0, minRetriesPerSecond: 0, now: () => 0 });
      const first = new DeviceError(true);
      await expect(retry(work, options({ budget: spent, firstFailure: { error: first } }))).rejects.toBe(first);
      expect(calls()).toBe(1);
    });
  });
});

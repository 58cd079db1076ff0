import { RetryBudget } from './retry-budget';

/** Every request fails and asks for up to `retriesWanted` retries; returns how many were granted. */
function failEveryRequest(sut: RetryBudget, requests: number, retriesWanted: number, between: () => void = () => undefined): number {
  let granted = 0;
  for (let i = 0; i < requests; i += 1) {
    between();
    sut.recordRequest();
    for (let r = 0; r < retriesWanted && sut.tryRetry(); r += 1) granted += 1;
  }
  return granted;
}

describe(RetryBudget.name, () => {
  let now: number;
  const clock = () => now;

  beforeEach(() => {
    now = 1_000_000;
  });

  it('grants ratio x requests retries, plus the starting minimum, when every request fails at once', () => {
    const sut = new RetryBudget({ ratio: 0.1, minRetriesPerSecond: 5, now: clock });

    const granted = failEveryRequest(sut, 10_000, 3);

    expect(granted).toBe(0.1 * 10_000 + 5);
    expect(sut.balance).toBeLessThan(1);
  });

  it('keeps retries to ratio x requests + min per second under 10,000 failing requests spread over 10 s', () => {
    const sut = new RetryBudget({ ratio: 0.1, minRetriesPerSecond: 5, now: clock });

    const granted = failEveryRequest(sut, 10_000, 3, () => (now += 1));

    // Without a budget, 3 retries each would be 30,000 extra calls to a failing cluster.
    expect(granted).toBeLessThanOrEqual(0.1 * 10_000 + 5 * 10 + 5);
    expect(granted).toBeGreaterThanOrEqual(0.1 * 10_000);
  });

  it('allows minRetriesPerSecond with no traffic at all', () => {
    const sut = new RetryBudget({ ratio: 0.1, minRetriesPerSecond: 4, now: clock });
    while (sut.tryRetry());
    expect(sut.tryRetry()).toBe(false);

    now += 1_000;
    const grantedInOneSecond = [1, 2, 3, 4, 5].filter(() => sut.tryRetry()).length;

    expect(grantedInOneSecond).toBe(4);
  });

  it('caps the balance so a long calm period cannot pay for a burst', () => {
    const sut = new RetryBudget({ ratio: 0.5, minRetriesPerSecond: 10, maxTokens: 20, now: clock });
    for (let i = 0; i < 1_000; i += 1) sut.recordRequest();
    now += 3_600_000;

    expect(sut.balance).toBe(20);
    expect(failEveryRequest(sut, 1, 100)).toBe(20);
  });

  it('refuses every retry when both ratio and minimum are zero', () => {
    const sut = new RetryBudget({ ratio: 0, minRetriesPerSecond: 0, now: clock });

    expect(failEveryRequest(sut, 1_000, 1, () => (now += 1_000))).toBe(0);
  });

  it('does not lose tokens when the clock steps back', () => {
    const sut = new RetryBudget({ ratio: 0, minRetriesPerSecond: 2, now: clock });
    now -= 60_000;

    expect(sut.balance).toBe(2);
  });

  it('rejects nonsensical settings', () => {
    expect(() => new RetryBudget({ ratio: -1, minRetriesPerSecond: 1 })).toThrow(RangeError);
    expect(() => new RetryBudget({ ratio: 0.1, minRetriesPerSecond: Number.NaN })).toThrow(RangeError);
    expect(() => new RetryBudget({ ratio: 0.1, minRetriesPerSecond: 1, maxTokens: 0 })).toThrow(RangeError);
  });
});

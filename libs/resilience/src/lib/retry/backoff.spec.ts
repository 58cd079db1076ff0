import { fullJitterDelay } from './backoff';

describe(fullJitterDelay.name, () => {
  const policy = { baseMs: 5, capMs: 200 };

  it('stays at or above zero and below min(cap, base * 2^retry) for every retry', () => {
    for (let retryIndex = 0; retryIndex < 64; retryIndex += 1) {
      const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** retryIndex);

      expect(fullJitterDelay(retryIndex, policy, () => 0)).toBe(0);
      expect(fullJitterDelay(retryIndex, policy, () => 0.999_999)).toBe(ceiling - 1);
    }
  });

  it('scales the random draw to the current ceiling', () => {
    expect(fullJitterDelay(0, policy, () => 0.5)).toBe(2);
    expect(fullJitterDelay(3, policy, () => 0.5)).toBe(20);
    expect(fullJitterDelay(10, policy, () => 0.5)).toBe(100);
  });

  it('spreads delays over the whole range with the real random source', () => {
    const delays = Array.from({ length: 2_000 }, () => fullJitterDelay(6, policy));

    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(200);
    // Full jitter, not "equal jitter": both halves of the range are used.
    expect(delays.some((d) => d < 100)).toBe(true);
    expect(delays.some((d) => d >= 100)).toBe(true);
  });

  it('gives no delay when the cap is zero', () => {
    expect(fullJitterDelay(4, { baseMs: 10, capMs: 0 }, () => 0.9)).toBe(0);
  });
});

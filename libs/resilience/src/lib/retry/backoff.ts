/** How often and how patiently to retry one call. */
export interface RetryPolicy {
  /** Tries in all, the first included (1 = no retry). */
  readonly attempts: number;
  /** Upper bound of the first retry's delay, in ms. */
  readonly baseMs: number;
  /** Upper bound of any delay, in ms. */
  readonly capMs: number;
}

/**
 * "Full jitter" backoff: a uniformly random delay in [0, min(cap, base * 2^retryIndex)). The
 * randomness spreads the retries of many callers, so an HSM that is recovering is not hit by
 * synchronised waves (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
 *
 * @param retryIndex 0 for the first retry (the second attempt).
 * @param policy only `baseMs` and `capMs` are read.
 * @param random a source of numbers in [0, 1); injectable so tests can pin it.
 * @returns whole milliseconds, at least 0 and below the ceiling (0 when the ceiling is 0).
 */
export function fullJitterDelay(retryIndex: number, policy: Pick<RetryPolicy, 'baseMs' | 'capMs'>, random: () => number = Math.random): number {
  // Clamping the exponent keeps 2^n finite for absurd indices; the cap applies long before.
  const exponent = Math.min(Math.max(0, Math.floor(retryIndex)), 52);
  const ceiling = Math.max(0, Math.min(policy.capMs, policy.baseMs * 2 ** exponent));
  return Math.floor(random() * ceiling);
}

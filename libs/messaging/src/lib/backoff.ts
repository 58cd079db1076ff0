/** Parameters of full-jitter exponential backoff. */
export interface BackoffPolicy {
  /** Delay cap of the first retry, in ms. */
  readonly baseMs: number;
  /** Upper bound of any delay, in ms. */
  readonly capMs: number;
}

/**
 * "Full jitter": a uniformly random delay in [0, min(cap, base * 2^attempt)). Spreads the
 * retries of many clients so a recovering broker or database is not hit by a synchronised
 * wave (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
 *
 * @param attempt 0 for the first retry.
 * @param random a source of [0, 1) numbers (injectable for tests).
 */
export function fullJitterDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/** A sleep that `wake()` can end early (used to stop loops promptly on shutdown). */
export class WakeableSleep {
  private wakeUp: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  /** Waits `ms` or until `wake()` is called. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeUp = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  /** Ends the current sleep, if any. */
  wake(): void {
    if (this.timer) clearTimeout(this.timer);
    this.wakeUp?.();
    this.wakeUp = undefined;
  }
}

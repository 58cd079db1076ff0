/** Settings of a {@link RetryBudget}. */
export interface RetryBudgetOptions {
  /** Tokens each first attempt deposits, i.e. retries allowed per request on average (0.1 = one retry per ten requests). */
  readonly ratio: number;
  /** Retries always allowed per second, so a service with little traffic can still retry. */
  readonly minRetriesPerSecond: number;
  /**
   * Most tokens the bucket holds (100 by default). Bounds the burst of retries that a long calm
   * period can pay for, so a sudden outage after hours of success still gets no storm.
   */
  readonly maxTokens?: number;
  /** Clock in ms (Date.now by default); injectable for tests. */
  readonly now?: () => number;
}

/**
 * Ratios such as 0.1 are not exact in binary: ten deposits give 0.9999999999999999 tokens. The
 * slack lets that count as the one retry it stands for.
 */
const EPSILON = 1e-9;

/**
 * A token bucket for retries, in the style of Finagle's RetryBudget and gRPC's retry throttling
 * (https://github.com/grpc/proposal/blob/master/A6-client-retries.md#throttling-retry-attempts-and-hedged-rpcs):
 * every first attempt deposits `ratio` tokens, every retry withdraws one, and
 * `minRetriesPerSecond` tokens trickle in with time whatever the traffic. When a dependency
 * fails outright, retries stay near `ratio × requests + minRetriesPerSecond × seconds` instead
 * of multiplying the load by the attempt count (no retry storm).
 *
 * Share one budget between all calls to the same dependency; it is synchronous and needs no
 * timers (it refills lazily from the clock), so there is nothing to close.
 */
export class RetryBudget {
  private tokens: number;
  private last: number;
  private readonly max: number;
  private readonly now: () => number;

  constructor(private readonly options: RetryBudgetOptions) {
    if (!(options.ratio >= 0) || !(options.minRetriesPerSecond >= 0)) {
      throw new RangeError('ratio and minRetriesPerSecond must be 0 or more');
    }
    this.max = options.maxTokens ?? 100;
    if (!(this.max >= 1)) throw new RangeError('maxTokens must be at least 1');
    this.now = options.now ?? Date.now;
    this.last = this.now();
    // Start with one second's minimum, as if the service had been idle for a second.
    this.tokens = Math.min(this.max, options.minRetriesPerSecond);
  }

  /** Counts a first attempt: deposits `ratio` tokens. */
  recordRequest(): void {
    this.refill();
    this.tokens = Math.min(this.max, this.tokens + this.options.ratio);
  }

  /** Withdraws one token for a retry. @returns false (and withdraws nothing) when the budget is spent. */
  tryRetry(): boolean {
    this.refill();
    if (this.tokens + EPSILON < 1) return false;
    this.tokens = Math.max(0, this.tokens - 1);
    return true;
  }

  /** Tokens available now (retries that would be allowed), for metrics. */
  get balance(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const at = this.now();
    // A clock that steps back (NTP) must not withdraw tokens.
    const elapsedSeconds = Math.max(0, at - this.last) / 1000;
    this.last = Math.max(this.last, at);
    this.tokens = Math.min(this.max, this.tokens + elapsedSeconds * this.options.minRetriesPerSecond);
  }
}

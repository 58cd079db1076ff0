import { setTimeout as delay } from 'node:timers/promises';
import { ResilienceException, ResilienceExceptionCode } from '../resilience.exception';
import { fullJitterDelay, type RetryPolicy } from './backoff';
import type { RetryBudget } from './retry-budget';

/** What `retry` tells each attempt. */
export interface RetryAttempt {
  /** 0 for the first attempt, 1 for the first retry, and so on. */
  readonly index: number;
  /** Targets (e.g. cluster ids) that earlier attempts of this call passed to `exclude`. */
  readonly excluded: ReadonlySet<string>;
  /** Marks a target so later attempts of this call can route around it. */
  exclude(target: string): void;
}

/** Passed to `onRetry` before each retry's backoff. */
export interface RetryInfo {
  /** Index of the attempt about to run (1 for the first retry). */
  readonly index: number;
  /** How long `retry` sleeps first, in ms. */
  readonly delayMs: number;
  /** The failure that is being retried. */
  readonly error: unknown;
}

/** Settings of one `retry` call. */
export interface RetryOptions {
  readonly policy: RetryPolicy;
  /** Shared by every call to one dependency; limits retries to a share of the traffic. */
  readonly budget?: RetryBudget;
  /** True for failures worth another attempt. The caller decides, and only for idempotent operations. */
  readonly isRetryable: (err: unknown) => boolean;
  /** Epoch ms: no backoff sleeps until or past it. */
  readonly deadline?: number;
  /** Stops further attempts (and wakes a backoff sleep); the attempt in progress is the work's business. */
  readonly signal?: AbortSignal;
  /**
   * The failure of a first attempt made elsewhere (e.g. the shared attempt of a batch): `retry`
   * goes on as if its own first attempt had failed with it. It decides as for any failure (rethrows
   * it unless retryable, with attempts left, the deadline and the budget allowing), sleeps the
   * first backoff and runs `work` from index 1. The budget counts the call as one request.
   */
  readonly firstFailure?: { readonly error: unknown };
  /** Told before each retry, for metrics and logs. */
  readonly onRetry?: (info: RetryInfo) => void;
  /** Injectable for tests: clock in epoch ms, [0, 1) random source, sleep that honours the signal. */
  readonly now?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

const realSleep = (ms: number, signal?: AbortSignal): Promise<void> => delay(ms, undefined, signal ? { signal } : {});

/**
 * Runs `work` until it succeeds or one of these stops it, in this order: the error is not
 * retryable, the attempts are used up, the signal is aborted, the next full-jitter delay would
 * reach the deadline, or the retry budget is spent. It then rejects with the last error of
 * `work` itself, never a wrapper, so callers keep their typed errors.
 *
 * Only two refusals come from here, both before any attempt: `DeadlineExceeded` when the
 * deadline has passed and `Aborted` when the signal is aborted.
 *
 * @param work gets the attempt (its index and the targets to avoid), e.g. so a router can pick
 *   another cluster on a retry.
 * @throws the last error of `work`, or ResilienceException `DeadlineExceeded` / `Aborted`
 */
export async function retry<T>(work: (attempt: RetryAttempt) => Promise<T>, options: RetryOptions): Promise<T> {
  const { policy, budget, deadline, signal } = options;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? realSleep;
  if (signal?.aborted) {
    throw new ResilienceException(ResilienceExceptionCode.Aborted, 'the call was aborted before the first attempt', { cause: signal.reason });
  }
  if (deadline !== undefined && now() >= deadline) {
    throw new ResilienceException(ResilienceExceptionCode.DeadlineExceeded, 'the deadline passed before the first attempt');
  }
  const excluded = new Set<string>();
  const exclude = (target: string): void => void excluded.add(target);
  budget?.recordRequest();

  for (let index = 0; ; index += 1) {
    try {
      if (index === 0 && options.firstFailure) throw options.firstFailure.error;
      return await work({ index, excluded, exclude });
    } catch (error) {
      if (!options.isRetryable(error) || index + 1 >= policy.attempts || signal?.aborted) throw error;
      const delayMs = fullJitterDelay(index, policy, options.random);
      // Checked before the budget, so a retry that could never happen costs no token.
      if (deadline !== undefined && now() + delayMs >= deadline) throw error;
      if (budget && !budget.tryRetry()) throw error;
      options.onRetry?.({ index: index + 1, delayMs, error });
      if (delayMs > 0) {
        try {
          await sleep(delayMs, signal);
        } catch (sleepError) {
          if (signal?.aborted) throw error;
          throw sleepError;
        }
      }
      if (signal?.aborted) throw error;
    }
  }
}

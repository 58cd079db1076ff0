import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import { ResilienceException, ResilienceExceptionCode } from '../resilience.exception';

/** A breaker's state as callers see it. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Told once per state change; `at` is epoch ms. Must not throw (it runs inside opossum's event emit). */
export type BreakerStateListener = (from: BreakerState, to: BreakerState, at: number) => void;

/** Settings of a {@link ClusterBreaker}. */
export interface ClusterBreakerOptions {
  /** Opens when failures are more than this share of the calls in the rolling window (0..100). */
  readonly errorThresholdPercentage: number;
  /** Length of the rolling window, in ms. */
  readonly rollingWindowMs: number;
  /** Buckets of the window: it moves in steps of rollingWindowMs / buckets (10 by default). */
  readonly buckets?: number;
  /** How long it stays open before letting one probe through (half-open), in ms. */
  readonly resetTimeoutMs: number;
  /** Calls the window must hold before the error rate can open it. */
  readonly volumeThreshold: number;
  /** False for errors that are the caller's fault (NOT_FOUND, INVALID_ARGUMENT): they do not count against the cluster. */
  readonly countsAsFailure?: (err: unknown) => boolean;
  /** Clock in epoch ms for the `at` of state changes (Date.now by default). */
  readonly now?: () => number;
}

/** opossum's event name for a bucket rotation, when the rotation is driven from outside. */
const ROTATE = 'rotate';

/**
 * The circuit breaker of one cluster, over opossum 9 (https://nodeshift.dev/opossum/).
 *
 * - Closed: calls run; it opens when, over the rolling window, there were at least
 *   `volumeThreshold` calls and failures were more than `errorThresholdPercentage` of them.
 * - Open: `fire` rejects at once with `CircuitOpen`; after `resetTimeoutMs` it turns half-open.
 * - Half-open: exactly one call goes through as a probe and the others get `CircuitOpen`; a
 *   probe that succeeds closes it, one that fails opens it again. A probe that fails with an
 *   error `countsAsFailure` rejects also closes it: the cluster did answer.
 *
 * Two departures from opossum's defaults, both deliberate:
 * - opossum keeps the window's old failures when it closes, so the first failure after a
 *   recovery would reopen it at once. Here closing starts a fresh window (as Hystrix does).
 * - opossum's own timeout is off: deadlines are the caller's business.
 */
export class ClusterBreaker {
  private readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  private readonly rotation = new EventEmitter();
  private readonly rotationTimer: NodeJS.Timeout;
  private readonly buckets: number;
  private readonly listeners: BreakerStateListener[] = [];
  private readonly now: () => number;
  private current: BreakerState = 'closed';

  /** @param name the cluster id, used in error messages. */
  constructor(
    readonly name: string,
    options: ClusterBreakerOptions,
  ) {
    this.buckets = options.buckets ?? 10;
    this.now = options.now ?? Date.now;
    const countsAsFailure = options.countsAsFailure ?? (() => true);
    this.breaker = new CircuitBreaker((work: () => Promise<unknown>) => work(), {
      name,
      timeout: false,
      errorThresholdPercentage: options.errorThresholdPercentage,
      rollingCountTimeout: options.rollingWindowMs,
      rollingCountBuckets: this.buckets,
      resetTimeout: options.resetTimeoutMs,
      volumeThreshold: options.volumeThreshold,
      // opossum reads a true errorFilter result as "not a failure".
      errorFilter: (err: unknown) => !countsAsFailure(err),
      // We drive the window ourselves so that closing can clear it (see the class comment).
      rotateBucketController: this.rotation,
      // Percentiles sort every latency in the window on each failure; nothing here reads them.
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
    });
    this.rotationTimer = setInterval(() => this.rotation.emit(ROTATE), Math.max(1, Math.floor(options.rollingWindowMs / this.buckets)));
    // The window alone must not keep the process alive.
    this.rotationTimer.unref();
    this.breaker.on('open', () => this.transition('open'));
    this.breaker.on('halfOpen', () => this.transition('half-open'));
    this.breaker.on('close', () => this.transition('closed'));
  }

  /** The current state. */
  get state(): BreakerState {
    return this.current;
  }

  /** Failures as a share of the calls in the current window, 0..100 (calls refused while open count as calls). */
  get errorPercentage(): number {
    const { fires, failures } = this.breaker.stats;
    return fires === 0 ? 0 : Math.min(100, (failures / fires) * 100);
  }

  /** Adds a listener for state changes, told once per change, in order. */
  onStateChange(listener: BreakerStateListener): void {
    this.listeners.push(listener);
  }

  /**
   * Runs `work` unless the breaker refuses it.
   *
   * @throws ResilienceException `CircuitOpen` (open, or half-open with the probe in flight) or
   *   `Closed` (after `shutdown()`); otherwise whatever `work` throws, unchanged.
   */
  async fire<T>(work: () => Promise<T>): Promise<T> {
    let started = false;
    try {
      return (await this.breaker.fire(() => {
        started = true;
        return work();
      })) as T;
    } catch (err) {
      // Errors of the work pass through untouched, whatever their `code` (a socket's ESHUTDOWN included).
      if (started) throw err;
      if (this.breaker.isShutdown) {
        throw new ResilienceException(ResilienceExceptionCode.Closed, `the circuit breaker of cluster ${this.name} is shut down`);
      }
      if (opossumCode(err) === 'EOPENBREAKER') {
        throw new ResilienceException(ResilienceExceptionCode.CircuitOpen, `the circuit breaker of cluster ${this.name} is open`);
      }
      throw err;
    }
  }

  /** Stops every timer (window rotation, reset timeout); later calls get `Closed`. Idempotent. */
  shutdown(): void {
    clearInterval(this.rotationTimer);
    this.breaker.shutdown();
  }

  private transition(to: BreakerState): void {
    const from = this.current;
    if (from === to) return;
    this.current = to;
    if (to === 'closed') this.clearWindow();
    const at = this.now();
    for (const listener of this.listeners) listener(from, to, at);
  }

  private clearWindow(): void {
    for (let i = 0; i < this.buckets; i += 1) this.rotation.emit(ROTATE);
  }
}

/** The `code` opossum puts on its own errors (read only when the work never started). */
function opossumCode(err: unknown): string | undefined {
  if (!(err instanceof Error) || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

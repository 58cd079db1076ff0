import { ResilienceException, ResilienceExceptionCode } from '../resilience.exception';

/** Settings of a {@link Bulkhead}. */
export interface BulkheadOptions {
  /** Calls running at once (at least 1). */
  readonly maxConcurrent: number;
  /** Calls waiting for a slot (0 or more); beyond this, calls are refused at once. */
  readonly maxQueue: number;
  /** Longest wait in the queue, in ms; unbounded when absent (a call's deadline still applies). */
  readonly queueTimeoutMs?: number;
  /** Clock in epoch ms (Date.now by default), used with per-call deadlines; injectable for tests. */
  readonly now?: () => number;
}

/** Per-call settings of {@link Bulkhead.run}. */
export interface BulkheadRunOptions {
  /** Epoch ms: the call leaves the queue with `QueueTimeout` when it is reached. */
  readonly deadline?: number;
}

interface Waiter {
  start(): void;
  fail(err: ResilienceException): void;
}

/**
 * Bounded concurrency with a bounded FIFO queue, one per cluster: a slow or failing cluster can
 * hold at most `maxConcurrent + maxQueue` requests; the rest are shed at once with
 * `BulkheadFull` (the gateway's RESOURCE_EXHAUSTED) instead of piling up in memory and
 * dragging the other clusters' callers down with it.
 */
export class Bulkhead {
  private running = 0;
  private readonly queue: Waiter[] = [];
  private closed = false;
  private readonly now: () => number;

  constructor(private readonly options: BulkheadOptions) {
    if (!Number.isInteger(options.maxConcurrent) || options.maxConcurrent < 1) throw new RangeError('maxConcurrent must be an integer of at least 1');
    if (!Number.isInteger(options.maxQueue) || options.maxQueue < 0) throw new RangeError('maxQueue must be an integer of 0 or more');
    this.now = options.now ?? Date.now;
  }

  /** Calls running now. */
  get inFlight(): number {
    return this.running;
  }

  /** Calls waiting for a slot now. */
  get queued(): number {
    return this.queue.length;
  }

  /**
   * Runs `work` in a free slot, or after the calls queued before it (FIFO).
   *
   * @throws ResilienceException `BulkheadFull` (queue full), `QueueTimeout` (waited past the queue
   *   timeout or the deadline), `DeadlineExceeded` (deadline passed before the call came in),
   *   `Closed` (after `close()`); otherwise whatever `work` throws.
   */
  async run<T>(work: () => Promise<T>, options: BulkheadRunOptions = {}): Promise<T> {
    if (this.closed) throw new ResilienceException(ResilienceExceptionCode.Closed, 'the bulkhead is closed');
    if (options.deadline !== undefined && this.now() >= options.deadline) {
      throw new ResilienceException(ResilienceExceptionCode.DeadlineExceeded, 'the deadline passed before the call reached the bulkhead');
    }
    if (this.running < this.options.maxConcurrent) this.running += 1;
    else await this.enqueue(options.deadline);
    try {
      return await work();
    } finally {
      this.release();
    }
  }

  /**
   * Refuses new calls and fails the queued ones with `Closed`, clearing their timers; calls in
   * flight finish normally. For shutdown.
   */
  close(): void {
    this.closed = true;
    for (const waiter of this.queue.splice(0)) waiter.fail(new ResilienceException(ResilienceExceptionCode.Closed, 'the bulkhead closed while the call was queued'));
  }

  /** Resolves when a slot has been handed to this call. */
  private enqueue(deadline: number | undefined): Promise<void> {
    if (this.queue.length >= this.options.maxQueue) {
      return Promise.reject(new ResilienceException(ResilienceExceptionCode.BulkheadFull, `${this.options.maxConcurrent} calls in flight and ${this.options.maxQueue} queued`));
    }
    const limits = [this.options.queueTimeoutMs, deadline === undefined ? undefined : deadline - this.now()].filter((ms): ms is number => ms !== undefined);
    const waitMs = limits.length > 0 ? Math.max(0, Math.min(...limits)) : undefined;
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const waiter: Waiter = {
        start: () => {
          clearTimeout(timer);
          resolve();
        },
        fail: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      if (waitMs !== undefined) {
        timer = setTimeout(() => {
          const at = this.queue.indexOf(waiter);
          if (at >= 0) this.queue.splice(at, 1);
          waiter.fail(new ResilienceException(ResilienceExceptionCode.QueueTimeout, `no slot became free within ${waitMs} ms`));
        }, waitMs);
      }
      this.queue.push(waiter);
    });
  }

  private release(): void {
    const next = this.queue.shift();
    // The slot passes straight to the next in line, so `running` stays the same and no later
    // caller can slip in between (that would break FIFO and the bound).
    if (next) next.start();
    else this.running -= 1;
  }
}

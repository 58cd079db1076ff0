import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as pkcs11js from 'pkcs11js';
import { HsmException, HsmExceptionCode } from '../hsm.exception';
import { packJobs } from './offload-arena';
import { REPLY_EVERY_MS } from './offload-jobs';
import type { FromWorker, OffloadCalls, OffloadFailure, OffloadJob, OffloadOutcome, OffloadRequest, OffloadResult, ToWorker, WorkerSettings } from './offload.protocol';

/** How many worker threads, and how they make the operation call. */
export interface Pkcs11OffloadOptions {
  /** At least 1; about one per CPU when the HSM computes in-process (SoftHSM2). */
  readonly workers: number;
  /**
   * `sync`: the worker makes the whole call itself (fastest when the library answers in
   * microseconds, as SoftHSM2 does; a worker then runs one operation at a time). `async`: the
   * operation goes on to libuv's thread pool, so that a networked HSM (CloudHSM) keeps many
   * operations in flight per worker.
   */
  readonly calls: OffloadCalls;
  /**
   * With sync calls, how long a worker works on a message's jobs before it answers those done,
   * in ms. Default `REPLY_EVERY_MS` (0.25); 0 answers every job on its own.
   */
  readonly replyEveryMs?: number;
  /** Told when a worker stops unexpectedly (for the operator's log); `restarted` false when it never came up. */
  readonly onWorkerLost?: (why: string, restarted: boolean) => void;
}

interface Waiting {
  resolve(result: OffloadOutcome): void;
  reject(err: Error): void;
}

interface Thread {
  readonly worker: Worker;
  readonly waiting: Map<number, Waiting>;
  pending: OffloadJob[];
  flushing: boolean;
  /** The worker started running its program (a worker that dies before that is not restarted). */
  online: boolean;
  /** Settles once the worker runs its program (resolves) or stops before that (rejects). */
  readonly started: Promise<void>;
  /** The worker's busy time (event loop active, ms) when last read: kept for the total once the worker is gone. */
  busyMs: number;
}

/**
 * Worker threads that run PKCS#11 operations (`C_*Init` and the operation) off the event
 * loop. pkcs11js makes every `C_*Init` call synchronously on the calling thread; in the gateway
 * those calls were a third of the main thread at peak (docs/crypto-gateway.md). A worker loads
 * the same library file as the main thread's `Pkcs11Module`, so it shares that instance's
 * sessions and object handles; sessions are still borrowed from and returned to the
 * `SessionPool` on the main thread, which keeps logins, session replacement and fault
 * injection where they were. The jobs submitted in one turn of the event loop go to a worker as
 * one message (each job to the worker with the least outstanding work); with sync calls their
 * results come back every quarter millisecond of work (`REPLY_EVERY_MS`), so that sessions
 * return to the pool and the next jobs leave while the worker is still busy.
 */
export class Pkcs11Offload {
  private readonly threads: Thread[] = [];
  private nextId = 0;
  private closed = false;
  /**
   * Messages with jobs sent to workers, the jobs in them (jobs / messages: how well a turn's work
   * is coalesced) and the messages of results that came back (replies / messages: how often a
   * worker answered part of a message early).
   */
  private counts = { messages: 0, jobs: 0, replies: 0 };
  /** Busy time of workers that stopped, ms. */
  private retiredBusyMs = 0;

  private constructor(private readonly options: Pkcs11OffloadOptions) {
    for (let i = 0; i < options.workers; i += 1) this.threads.push(this.spawn());
  }

  /** Starts the workers. @throws HsmException `InvalidInput` for a worker count below 1 */
  static start(options: Pkcs11OffloadOptions): Pkcs11Offload {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new HsmException(HsmExceptionCode.InvalidInput, 'the PKCS#11 offload needs at least one worker thread');
    }
    return new Pkcs11Offload(options);
  }

  /**
   * Resolves once every worker runs its program. @throws HsmException `ModuleLoadFailed` when a
   * worker stopped before that (its program could not be loaded): the process should not serve.
   */
  async ready(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.started));
  }

  /**
   * For status and metrics: the call style, workers running, jobs not answered yet, messages and
   * jobs sent and replies received so far, and `busyMs`, the time the workers' event loops were
   * active since start, all workers together (its rate over workers: how busy they are).
   */
  stats(): { calls: OffloadCalls; workers: number; outstanding: number; messages: number; jobs: number; replies: number; busyMs: number } {
    let busyMs = this.retiredBusyMs;
    for (const thread of this.threads) {
      thread.busyMs = Math.max(thread.busyMs, thread.worker.performance.eventLoopUtilization().active);
      busyMs += thread.busyMs;
    }
    return { calls: this.options.calls, workers: this.threads.length, outstanding: this.threads.reduce((sum, t) => sum + t.waiting.size, 0), ...this.counts, busyMs };
  }

  /**
   * Runs one job on a worker. A PKCS#11 failure is rejected as a `pkcs11js.Pkcs11Error` with
   * the library's CKR value, so that callers map it exactly as a call on the main thread.
   */
  run(request: OffloadRequest): Promise<OffloadOutcome> {
    if (this.closed) return Promise.reject(new HsmException(HsmExceptionCode.PoolClosed, 'the PKCS#11 offload is closed'));
    const thread = this.leastBusy();
    if (!thread) return Promise.reject(new HsmException(HsmExceptionCode.DeviceError, 'no PKCS#11 worker thread is running'));
    const id = (this.nextId += 1);
    return new Promise<OffloadOutcome>((resolve, reject) => {
      thread.waiting.set(id, { resolve, reject });
      thread.pending.push({ ...request, id });
      this.scheduleFlush(thread);
    });
  }

  /** Sends the thread's pending jobs after this turn of the event loop (one message for all of a turn's jobs). */
  private scheduleFlush(thread: Thread): void {
    if (thread.flushing) return;
    thread.flushing = true;
    setImmediate(() => this.flush(thread));
  }

  /** True when a worker runs a message's jobs one after another (sync calls): `runInOrder` is possible. */
  get inOrder(): boolean {
    return this.options.calls === 'sync';
  }

  /**
   * Runs jobs one after another on one worker, in this order: the jobs of one session (a
   * PKCS#11 session does one operation at a time). Each job settles on its own: the answer holds
   * an outcome or the error (as `run` would reject it) per job. It costs the calling thread one
   * promise for all of them. Only with sync calls (`inOrder`), where a worker runs its jobs in
   * turn; with async calls they would overlap in the session.
   * @throws HsmException `InvalidInput` with async calls, `PoolClosed` after `close`, `DeviceError` with no worker running
   */
  runInOrder(requests: readonly OffloadRequest[]): Promise<(OffloadOutcome | Error)[]> {
    if (!this.inOrder) return Promise.reject(new HsmException(HsmExceptionCode.InvalidInput, 'jobs in order need a worker with sync calls'));
    if (this.closed) return Promise.reject(new HsmException(HsmExceptionCode.PoolClosed, 'the PKCS#11 offload is closed'));
    const thread = this.leastBusy();
    if (!thread) return Promise.reject(new HsmException(HsmExceptionCode.DeviceError, 'no PKCS#11 worker thread is running'));
    return new Promise((resolve) => {
      const settled: (OffloadOutcome | Error)[] = new Array<OffloadOutcome | Error>(requests.length);
      let left = requests.length;
      if (left === 0) resolve(settled);
      requests.forEach((request, at) => {
        const id = (this.nextId += 1);
        const done = (outcome: OffloadOutcome | Error) => {
          settled[at] = outcome;
          left -= 1;
          if (left === 0) resolve(settled);
        };
        thread.waiting.set(id, { resolve: done, reject: done });
        // The caller gets the group only whole: no early reply from the worker inside it.
        thread.pending.push(at < requests.length - 1 ? { ...request, id, answerWithNext: true } : { ...request, id });
      });
      this.scheduleFlush(thread);
    });
  }

  /** Tells every worker to drop its reference to a library that is about to be finalised. */
  forget(library: string): void {
    const message: ToWorker = { type: 'forget', library };
    for (const thread of this.threads) thread.worker.postMessage(message);
  }

  /** Ends the workers; jobs still outstanding fail with `PoolClosed`. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const threads = this.threads.splice(0);
    for (const thread of threads) this.failAll(thread, new HsmException(HsmExceptionCode.PoolClosed, 'the PKCS#11 offload is closed'));
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  private leastBusy(): Thread | undefined {
    let best = this.threads[0];
    for (const thread of this.threads) if (best && thread.waiting.size < best.waiting.size) best = thread;
    return best;
  }

  private flush(thread: Thread): void {
    thread.flushing = false;
    const jobs = thread.pending;
    thread.pending = [];
    if (jobs.length === 0) return;
    try {
      const { jobs: packed, arena } = packJobs(jobs);
      const message: ToWorker = { type: 'jobs', jobs: packed };
      thread.worker.postMessage(message, [arena]);
      this.counts.messages += 1;
      this.counts.jobs += jobs.length;
    } catch (err) {
      // Nothing was sent: these jobs fail here, with the reason, and the worker goes on.
      for (const job of jobs) this.settle(thread, { id: job.id, failure: { name: 'DataCloneError', message: (err as Error).message } });
    }
  }

  private spawn(): Thread {
    const entry = workerEntry();
    const workerData: WorkerSettings = { calls: this.options.calls, replyEveryMs: this.options.replyEveryMs ?? REPLY_EVERY_MS };
    const worker = new Worker(entry.file, { workerData, ...(entry.execArgv ? { execArgv: entry.execArgv } : {}) });
    let started!: { resolve(): void; reject(err: Error): void };
    const startedPromise = new Promise<void>((resolve, reject) => (started = { resolve, reject }));
    // Observed here so that a worker lost before anyone awaits ready() is no unhandled rejection.
    startedPromise.catch(() => undefined);
    const thread: Thread = { worker, waiting: new Map(), pending: [], flushing: false, online: false, started: startedPromise, busyMs: 0 };
    worker.once('online', () => {
      thread.online = true;
      started.resolve();
    });
    worker.on('message', (message: FromWorker) => {
      this.counts.replies += 1;
      for (const result of message.results) this.settle(thread, result);
    });
    const lost = (why: string) => {
      const at = this.threads.indexOf(thread);
      if (at < 0) return;
      this.retiredBusyMs += thread.busyMs;
      // Its jobs may have stopped inside an operation: DeviceError makes the pool replace those sessions.
      this.failAll(thread, new HsmException(HsmExceptionCode.DeviceError, `a PKCS#11 worker thread stopped (${why})`));
      // A worker that never came up (its program cannot load) would only fail again: not replaced.
      if (thread.online) this.threads.splice(at, 1, this.spawn());
      else this.threads.splice(at, 1);
      started.reject(new HsmException(HsmExceptionCode.ModuleLoadFailed, `a PKCS#11 worker thread could not start (${why})`));
      this.options.onWorkerLost?.(why, thread.online);
    };
    worker.on('error', (err) => lost(err.name));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    return thread;
  }

  private settle(thread: Thread, result: OffloadResult): void {
    const waiting = thread.waiting.get(result.id);
    if (!waiting) return;
    thread.waiting.delete(result.id);
    if (result.failure) {
      waiting.reject(errorOf(result.failure));
      return;
    }
    const { output, iv, verified } = result;
    waiting.resolve({
      ...(output ? { output: Buffer.from(output.buffer, output.byteOffset, output.byteLength) } : {}),
      ...(iv ? { iv: Buffer.from(iv.buffer, iv.byteOffset, iv.byteLength) } : {}),
      ...(verified !== undefined ? { verified } : {}),
    });
  }

  private failAll(thread: Thread, err: Error): void {
    thread.pending = [];
    for (const waiting of thread.waiting.values()) waiting.reject(err);
    thread.waiting.clear();
  }
}

/** A worker's failure as the error the same call would have thrown on this thread. */
export function errorOf(failure: OffloadFailure): Error {
  if (failure.name === 'Pkcs11Error' && failure.code !== undefined) return new pkcs11js.Pkcs11Error(failure.message, failure.code, failure.method);
  const err = new Error(failure.message);
  err.name = failure.name;
  return err;
}

/** The compiled worker beside this file, or (under a TypeScript loader: tests, benchmarks) its source. */
function workerEntry(): { file: string; execArgv?: string[] } {
  const compiled = join(__dirname, 'pkcs11.worker.js');
  if (existsSync(compiled)) return { file: compiled };
  return { file: join(__dirname, 'pkcs11.worker.ts'), execArgv: ['--require', '@swc-node/register'] };
}

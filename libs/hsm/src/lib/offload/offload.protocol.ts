// The messages between the main thread and the PKCS#11 worker threads (structured clone:
// Buffers arrive as Uint8Arrays). Native handles travel as the bytes pkcs11js gives them; they
// stay valid in a worker because it loads the very same library file, which the dynamic loader
// maps once per process (one library instance, one session and handle space).
import type * as pkcs11js from 'pkcs11js';

/**
 * The operations a worker runs: the `C_*Init` call and the operation, both inside the worker;
 * `random` is C_GenerateRandom (no key, no mechanism), which on a networked HSM is a round trip
 * that must not hold the event loop.
 */
export type OffloadKind = 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'random';

/** One operation in one session. `outputBytes` sizes the output buffer; `signature` only for verify. */
export interface OffloadJob {
  readonly id: number;
  readonly library: string;
  readonly kind: OffloadKind;
  readonly session: Uint8Array;
  /** Every kind but `random`. */
  readonly key?: Uint8Array;
  /** Every kind but `random`. */
  readonly mechanism?: pkcs11js.Mechanism;
  readonly input: Uint8Array;
  readonly outputBytes?: number;
  readonly signature?: Uint8Array;
  /**
   * Set on every job of an in-order group but its last: the caller uses the group's results
   * only all together, so the worker does not answer early right after this job.
   */
  readonly answerWithNext?: true;
}

/** A job as a caller hands it over (the offload numbers it). */
export type OffloadRequest = Omit<OffloadJob, 'id'>;

/** What an operation answers (Buffers on the receiving side); failures are thrown or rejected instead. */
export interface OffloadOutcome {
  readonly output?: Buffer;
  /** AES-GCM encrypt: the IV after the call (an HSM that generates it writes it back). */
  readonly iv?: Buffer;
  readonly verified?: boolean;
}

/** A PKCS#11 (or other) failure, as much of it as can cross the thread boundary; never data. */
export interface OffloadFailure {
  readonly name: string;
  readonly message: string;
  /** The CK_RV of a `Pkcs11Error`. */
  readonly code?: number;
  readonly method?: string;
}

/** The outcome of one job: output (encrypt, decrypt, sign), `verified` (verify) or `failure`. */
export interface OffloadResult {
  readonly id: number;
  readonly output?: Uint8Array;
  /** AES-GCM encrypt: the IV after the call (an HSM that generates it writes it back). */
  readonly iv?: Uint8Array;
  readonly verified?: boolean;
  readonly failure?: OffloadFailure;
}

/** Main thread to worker. `forget`: the library is being finalised; drop the worker's handle to it. */
export type ToWorker = { readonly type: 'jobs'; readonly jobs: readonly OffloadJob[] } | { readonly type: 'forget'; readonly library: string };

/** Worker to main thread: results of a `jobs` message, all or those done so far (a message's jobs may be answered in several). */
export interface FromWorker {
  readonly results: readonly OffloadResult[];
}

/** How a worker runs the operation after its `C_*Init`: on its own thread, or on libuv's pool. */
export type OffloadCalls = 'sync' | 'async';

/**
 * The mechanism with each byte field of its parameter (the parameter itself, or its values:
 * IV, AAD) replaced by `map`; the very same object when `map` returns every field unchanged.
 */
export function mapParameterBytes(mechanism: pkcs11js.Mechanism, map: (bytes: Uint8Array) => Uint8Array): pkcs11js.Mechanism {
  const parameter: unknown = mechanism.parameter;
  if (parameter instanceof Uint8Array) {
    const mapped = map(parameter);
    return mapped === parameter ? mechanism : { ...mechanism, parameter: mapped as Buffer };
  }
  if (typeof parameter !== 'object' || parameter === null) return mechanism;
  let copy: Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(parameter)) {
    if (!(value instanceof Uint8Array)) continue;
    const mapped = map(value);
    if (mapped !== value) (copy ??= { ...parameter })[name] = mapped;
  }
  return copy ? { ...mechanism, parameter: copy as unknown as pkcs11js.IParams } : mechanism;
}

/** A worker's `workerData`. */
export interface WorkerSettings {
  readonly calls: OffloadCalls;
  /** With sync calls, the ms of work after which the results so far are answered. */
  readonly replyEveryMs: number;
}

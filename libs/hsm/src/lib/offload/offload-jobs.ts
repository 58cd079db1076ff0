import * as pkcs11js from 'pkcs11js';
import { mapParameterBytes, type OffloadCalls, type OffloadFailure, type OffloadJob, type OffloadOutcome, type OffloadRequest, type OffloadResult } from './offload.protocol';

/** Bytes as a Buffer over the same memory (structured clone delivers Uint8Arrays; pkcs11js requires Buffers). */
function buf(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}


/**
 * What of an error may cross to the main thread: a PKCS#11 failure's CKR name and value and the
 * function that failed (`method`), or an error's name and message.
 */
export function failureOf(err: unknown): OffloadFailure {
  if (err instanceof pkcs11js.Pkcs11Error) return { name: err.name, message: err.message, code: err.code, method: err.method };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: 'the worker thread failed with a non-error value' };
}

/** Makes the PKCS#11 call `fn`; a failure is thrown as a Pkcs11Error whose `method` names it, so callers tell an init failure from the operation's. */
function step<T>(fn: string, call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof pkcs11js.Pkcs11Error && err.method !== fn) throw new pkcs11js.Pkcs11Error(err.message, err.code, fn);
    throw err;
  }
}

/** `step` for an asynchronous call. */
async function stepAsync<T>(fn: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof pkcs11js.Pkcs11Error && err.method !== fn) throw new pkcs11js.Pkcs11Error(err.message, err.code, fn);
    throw err;
  }
}

/**
 * Runs one operation in `lib`: the `C_*Init` and the operation in the request's session, on the
 * calling thread (a worker, or the main thread when there is no offload). With `calls` `async` the
 * operation itself runs on libuv's thread pool (pkcs11js `*Async`), so that a slow (networked)
 * HSM does not hold the calling thread for the round trip.
 * @throws pkcs11js.Pkcs11Error with `method` = the function that failed
 */
export async function execute(lib: pkcs11js.PKCS11, request: OffloadRequest, calls: OffloadCalls): Promise<OffloadOutcome> {
  const session = buf(request.session);
  if (request.kind === 'random') {
    // pkcs11js has no asynchronous C_GenerateRandom: it runs on the calling thread (a worker's, with the offload).
    return { output: step('C_GenerateRandom', () => lib.C_GenerateRandom(session, Buffer.alloc(request.outputBytes ?? 0))) };
  }
  if (!request.key || !request.mechanism) throw new TypeError(`a ${request.kind} job needs a key and a mechanism`);
  const key = buf(request.key);
  const input = buf(request.input);
  // Its byte parameters (IV, AAD) as Buffers again; the same mechanism when they are Buffers already.
  const mechanism = mapParameterBytes(request.mechanism, buf);
  const sync = calls === 'sync';
  switch (request.kind) {
    case 'encrypt': {
      const out = Buffer.alloc(request.outputBytes ?? 0);
      step('C_EncryptInit', () => lib.C_EncryptInit(session, mechanism, key));
      const output = sync ? step('C_Encrypt', () => lib.C_Encrypt(session, input, out)) : await stepAsync('C_Encrypt', () => lib.C_EncryptAsync(session, input, out));
      // The IV after the call: an HSM that generates it writes it into the parameter.
      const iv = (mechanism.parameter as { iv?: Buffer } | undefined)?.iv;
      return { output, ...(iv ? { iv } : {}) };
    }
    case 'decrypt': {
      const out = Buffer.alloc(request.outputBytes ?? 0);
      step('C_DecryptInit', () => lib.C_DecryptInit(session, mechanism, key));
      return { output: sync ? step('C_Decrypt', () => lib.C_Decrypt(session, input, out)) : await stepAsync('C_Decrypt', () => lib.C_DecryptAsync(session, input, out)) };
    }
    case 'sign': {
      const out = Buffer.alloc(request.outputBytes ?? 0);
      step('C_SignInit', () => lib.C_SignInit(session, mechanism, key));
      return { output: sync ? step('C_Sign', () => lib.C_Sign(session, input, out)) : await stepAsync('C_Sign', () => lib.C_SignAsync(session, input, out)) };
    }
    case 'verify': {
      const signature = buf(request.signature ?? new Uint8Array(0));
      step('C_VerifyInit', () => lib.C_VerifyInit(session, mechanism, key));
      return { verified: sync ? step('C_Verify', () => lib.C_Verify(session, input, signature)) : await stepAsync('C_Verify', () => lib.C_VerifyAsync(session, input, signature)) };
    }
  }
}

/** How long a worker with sync calls works on a message's jobs before it answers those done (ms). */
export const REPLY_EVERY_MS = 0.25;

/** A worker's job: `execute`, with a failure answered as data for the main thread. */
async function runJob(lib: pkcs11js.PKCS11, job: OffloadJob, calls: OffloadCalls): Promise<OffloadResult> {
  try {
    // The IV is a view into the message's arena (offload-arena.ts); the reply copies it and the
    // output into a buffer of their own (packResults), so the arena never travels back.
    return { id: job.id, ...(await execute(lib, job, calls)) };
  } catch (err) {
    return { id: job.id, failure: failureOf(err) };
  }
}

/**
 * The libraries a worker has loaded, by path. Loading the file the main thread's module was
 * loaded from yields that same instance (already initialised: the worker never calls
 * C_Initialize or C_Finalize, which belong to the main thread's `Pkcs11Module`).
 */
export class WorkerLibraries {
  private readonly loaded = new Map<string, pkcs11js.PKCS11>();

  get(path: string): pkcs11js.PKCS11 {
    let lib = this.loaded.get(path);
    if (!lib) {
      lib = new pkcs11js.PKCS11();
      lib.load(path);
      this.loaded.set(path, lib);
    }
    return lib;
  }

  /** Drops this worker's reference to a library (the main thread finalises it). */
  forget(path: string): void {
    this.loaded.get(path)?.close();
    this.loaded.delete(path);
  }

  /**
   * Runs a message's jobs and hands their results to `reply`; a library that cannot be loaded
   * fails its jobs, not the worker. With `sync` calls the jobs run one after another, and the
   * results so far go out whenever `replyEveryMs` has passed since the last reply: the main
   * thread then frees their sessions and sends the next jobs while this thread still works,
   * instead of both taking turns (measured: a third of the CPUs idle with one reply per
   * message). Never in the middle of an in-order group (`answerWithNext`), whose caller waits
   * for all of it: such a reply would cost both threads a message and free nothing. With `async` calls all jobs are in flight at once and answered together.
   * Resolves once every result was handed over.
   */
  async run(jobs: readonly OffloadJob[], calls: OffloadCalls, reply: (results: OffloadResult[]) => void, replyEveryMs = REPLY_EVERY_MS, now = () => performance.now()): Promise<void> {
    if (calls === 'async') {
      reply(await Promise.all(jobs.map((job) => this.runOne(job, calls))));
      return;
    }
    let results: OffloadResult[] = [];
    let since = now();
    for (const job of jobs) {
      results.push(await this.runOne(job, calls));
      if (results.length < jobs.length && !job.answerWithNext && now() - since >= replyEveryMs) {
        reply(results);
        results = [];
        since = now();
      }
    }
    if (results.length > 0) reply(results);
  }

  private runOne(job: OffloadJob, calls: OffloadCalls): Promise<OffloadResult> {
    let lib: pkcs11js.PKCS11;
    try {
      lib = this.get(job.library);
    } catch (err) {
      return Promise.resolve({ id: job.id, failure: failureOf(err) });
    }
    return runJob(lib, job, calls);
  }
}

import * as pkcs11js from 'pkcs11js';
import type { OffloadCalls, OffloadFailure, OffloadJob, OffloadResult } from './offload.protocol';

/** A Uint8Array (as structured clone delivers it) as a Buffer over the same memory. */
function buf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The mechanism with its byte parameters (IV, AAD) as Buffers again, which pkcs11js requires. */
function mechanismOf(job: OffloadJob): pkcs11js.Mechanism {
  const { mechanism } = job;
  const parameter = mechanism.parameter;
  if (parameter === undefined || parameter instanceof Uint8Array) return parameter === undefined ? mechanism : { ...mechanism, parameter: buf(parameter) };
  if (typeof parameter !== 'object') return mechanism;
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parameter)) copy[name] = value instanceof Uint8Array ? buf(value) : value;
  return { ...mechanism, parameter: copy as unknown as pkcs11js.IParams };
}

/**
 * What of an error may cross to the main thread: a PKCS#11 failure's CKR name and value and the
 * function that failed (`method`), or an error's name and message.
 */
export function failureOf(err: unknown, method?: string): OffloadFailure {
  if (err instanceof pkcs11js.Pkcs11Error) return { name: err.name, message: err.message, code: err.code, method: method ?? err.method };
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: 'the worker thread failed with a non-error value' };
}

/**
 * Runs one job in `lib`: the `C_*Init` and the operation in the job's session. With `calls`
 * `async` the operation itself runs on libuv's thread pool (pkcs11js `*Async`), so that a slow
 * (networked) HSM does not hold this thread for the round trip.
 */
export async function runJob(lib: pkcs11js.PKCS11, job: OffloadJob, calls: OffloadCalls): Promise<OffloadResult> {
  const session = buf(job.session);
  const key = buf(job.key);
  const input = buf(job.input);
  const mechanism = mechanismOf(job);
  // The PKCS#11 function being called, for the failure: callers tell an init failure from the operation's.
  let step = 'C_EncryptInit';
  try {
    switch (job.kind) {
      case 'encrypt':
      case 'decrypt': {
        const out = Buffer.alloc(job.outputBytes ?? 0);
        let output: Buffer;
        if (job.kind === 'encrypt') {
          step = 'C_EncryptInit';
          lib.C_EncryptInit(session, mechanism, key);
          step = 'C_Encrypt';
          output = calls === 'sync' ? lib.C_Encrypt(session, input, out) : await lib.C_EncryptAsync(session, input, out);
        } else {
          step = 'C_DecryptInit';
          lib.C_DecryptInit(session, mechanism, key);
          step = 'C_Decrypt';
          output = calls === 'sync' ? lib.C_Decrypt(session, input, out) : await lib.C_DecryptAsync(session, input, out);
        }
        const iv = (mechanism.parameter as { iv?: Buffer } | undefined)?.iv;
        return { id: job.id, output, ...(job.kind === 'encrypt' && iv ? { iv } : {}) };
      }
      case 'sign': {
        step = 'C_SignInit';
        lib.C_SignInit(session, mechanism, key);
        step = 'C_Sign';
        const out = Buffer.alloc(job.outputBytes ?? 0);
        return { id: job.id, output: calls === 'sync' ? lib.C_Sign(session, input, out) : await lib.C_SignAsync(session, input, out) };
      }
      case 'verify': {
        step = 'C_VerifyInit';
        lib.C_VerifyInit(session, mechanism, key);
        step = 'C_Verify';
        const signature = buf(job.signature ?? new Uint8Array(0));
        return { id: job.id, verified: calls === 'sync' ? lib.C_Verify(session, input, signature) : await lib.C_VerifyAsync(session, input, signature) };
      }
    }
  } catch (err) {
    return { id: job.id, failure: failureOf(err, step) };
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

  /** Runs a message's jobs; a library that cannot be loaded fails its jobs, not the worker. */
  run(jobs: readonly OffloadJob[], calls: OffloadCalls): Promise<OffloadResult[]> {
    return Promise.all(
      jobs.map((job) => {
        let lib: pkcs11js.PKCS11;
        try {
          lib = this.get(job.library);
        } catch (err) {
          return Promise.resolve({ id: job.id, failure: failureOf(err) });
        }
        return runJob(lib, job, calls);
      }),
    );
  }
}

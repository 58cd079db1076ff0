import type * as pkcs11js from 'pkcs11js';
import type { OffloadJob } from './offload.protocol';

/**
 * The jobs of one message with every byte field (session and key handles, input, signature,
 * the mechanism's IV and AAD) copied into one ArrayBuffer, the arena, which the message then
 * transfers instead of copying.
 *
 * Why: structured clone copies the whole ArrayBuffer behind a Uint8Array, not just its bytes.
 * The fields are views into much larger buffers: Node's 8 KiB pool for small Buffers, the 4 KiB
 * block AES-GCM IVs are drawn from, and for a batch the gRPC request holding every item's
 * input, so a 1 KiB encrypt item cost tens of KiB of copying each way (measured: a worker
 * received an 8-byte pooled handle over 8,192 bytes, an IV over 4,096 and a 1 KiB slice of a
 * 33,000-byte message over all of it). With the arena a job costs its own bytes, copied once.
 */
export function packJobs(jobs: readonly OffloadJob[]): { jobs: OffloadJob[]; arena: ArrayBuffer } {
  let size = 0;
  const measure = (bytes: Uint8Array | undefined) => (size += bytes?.byteLength ?? 0);
  for (const job of jobs) {
    measure(job.session);
    measure(job.key);
    measure(job.input);
    measure(job.signature);
    forEachParameterBytes(job.mechanism, measure);
  }
  const arena = new ArrayBuffer(size);
  let at = 0;
  const place = (bytes: Uint8Array): Uint8Array => {
    const view = new Uint8Array(arena, at, bytes.byteLength);
    view.set(bytes);
    at += bytes.byteLength;
    return view;
  };
  const packed = jobs.map((job) => ({
    ...job,
    session: place(job.session),
    key: place(job.key),
    input: place(job.input),
    ...(job.signature ? { signature: place(job.signature) } : {}),
    mechanism: placeParameter(job.mechanism, place),
  }));
  return { jobs: packed, arena };
}

/** Calls `visit` with each byte field of the mechanism's parameter (the parameter itself, or its values). */
function forEachParameterBytes(mechanism: pkcs11js.Mechanism, visit: (bytes: Uint8Array) => void): void {
  const { parameter } = mechanism;
  if (parameter instanceof Uint8Array) return visit(parameter);
  if (typeof parameter !== 'object' || parameter === null) return;
  for (const value of Object.values(parameter)) if (value instanceof Uint8Array) visit(value);
}

/** The mechanism with its parameter's bytes moved into the arena; other values unchanged. */
function placeParameter(mechanism: pkcs11js.Mechanism, place: (bytes: Uint8Array) => Uint8Array): pkcs11js.Mechanism {
  const { parameter } = mechanism;
  if (parameter instanceof Uint8Array) return { ...mechanism, parameter: place(parameter) as Buffer };
  if (typeof parameter !== 'object' || parameter === null) return mechanism;
  const copy: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(parameter)) copy[name] = value instanceof Uint8Array ? place(value) : value;
  return { ...mechanism, parameter: copy as unknown as pkcs11js.IParams };
}

import { mapParameterBytes, type OffloadJob } from './offload.protocol';

/** A job's byte fields besides the mechanism's. */
const BYTE_FIELDS = ['session', 'key', 'input', 'signature'] as const;

type Writable<T> = { -readonly [K in keyof T]: T[K] };

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
  const measure = (bytes: Uint8Array) => {
    size += bytes.byteLength;
    return bytes;
  };
  for (const job of jobs) {
    for (const field of BYTE_FIELDS) if (job[field]) measure(job[field]);
    mapParameterBytes(job.mechanism, measure);
  }
  const arena = new ArrayBuffer(size);
  let at = 0;
  const place = (bytes: Uint8Array): Uint8Array => {
    const view = new Uint8Array(arena, at, bytes.byteLength);
    view.set(bytes);
    at += bytes.byteLength;
    return view;
  };
  const packed = jobs.map((job) => {
    const copy: Writable<OffloadJob> = { ...job, mechanism: mapParameterBytes(job.mechanism, place) };
    for (const field of BYTE_FIELDS) if (job[field]) copy[field] = place(job[field]);
    return copy;
  });
  return { jobs: packed, arena };
}

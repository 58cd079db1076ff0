import { mapParameterBytes, type OffloadJob, type OffloadResult } from './offload.protocol';

/** A job's byte fields besides the mechanism's. */
const BYTE_FIELDS = ['session', 'key', 'input', 'signature'] as const;

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** An ArrayBuffer of `size` bytes and `place`, which copies bytes into its next free range and answers the view of them. */
function arenaOf(size: number): { arena: ArrayBuffer; place: (bytes: Uint8Array) => Uint8Array } {
  const arena = new ArrayBuffer(size);
  let at = 0;
  return {
    arena,
    place: (bytes) => {
      const view = new Uint8Array(arena, at, bytes.byteLength);
      view.set(bytes);
      at += bytes.byteLength;
      return view;
    },
  };
}

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
    if (job.mechanism) mapParameterBytes(job.mechanism, measure);
  }
  const { arena, place } = arenaOf(size);
  const packed = jobs.map((job) => {
    const copy: Writable<OffloadJob> = job.mechanism ? { ...job, mechanism: mapParameterBytes(job.mechanism, place) } : { ...job };
    for (const field of BYTE_FIELDS) if (job[field]) copy[field] = place(job[field]);
    return copy;
  });
  return { jobs: packed, arena };
}

/**
 * A reply's results with every output and IV copied into one ArrayBuffer, which the reply
 * transfers. Why: a worker's outputs each have a buffer of their own; cloning copies each one,
 * and transferring them one by one still costs the receiving thread (the gateway's main thread,
 * its bottleneck) an ArrayBuffer object and a backing store per result. Measured through a real
 * port with 32 AES-GCM results of 1 KiB: about 2.1 µs per result to receive with the outputs
 * transferred one by one and the IVs cloned, 0.6 µs from one arena. Failures carry no bytes and
 * pass unchanged.
 */
export function packResults(results: readonly OffloadResult[]): { results: OffloadResult[]; arena: ArrayBuffer } {
  let size = 0;
  for (const result of results) size += (result.output?.byteLength ?? 0) + (result.iv?.byteLength ?? 0);
  const { arena, place } = arenaOf(size);
  const packed = results.map((result) => {
    if (!result.output && !result.iv) return result;
    return { ...result, ...(result.output ? { output: place(result.output) } : {}), ...(result.iv ? { iv: place(result.iv) } : {}) };
  });
  return { results: packed, arena };
}

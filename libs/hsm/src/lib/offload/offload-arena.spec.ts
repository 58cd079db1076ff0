import { MessageChannel, type TransferListItem } from 'node:worker_threads';
import type * as pkcs11js from 'pkcs11js';
import { packJobs, packResults } from './offload-arena';
import type { OffloadJob, OffloadResult } from './offload.protocol';

describe('packJobs', () => {
  // Views into larger buffers, as the gateway hands them over: a pooled handle, an IV from a block, a slice of a request.
  const pool = Buffer.allocUnsafe(64).fill(1);
  const block = Buffer.alloc(4096, 2);
  const request = Buffer.alloc(33_000, 3);
  const gcm: pkcs11js.Mechanism = { mechanism: 0x1087, parameter: { iv: block.subarray(12, 24), aad: pool.subarray(40, 56), tagBits: 128 } as unknown as pkcs11js.IParams };
  const jobs: OffloadJob[] = [
    { id: 1, library: '/lib/a.so', kind: 'encrypt', session: pool.subarray(0, 8), key: pool.subarray(8, 16), mechanism: gcm, input: request.subarray(100, 1124), outputBytes: 1040 },
    { id: 2, library: '/lib/a.so', kind: 'verify', session: pool.subarray(16, 24), key: pool.subarray(24, 32), mechanism: { mechanism: 0x1044 }, input: request.subarray(2000, 2032), signature: request.subarray(3000, 3064) },
    { id: 3, library: '/lib/a.so', kind: 'sign', session: pool.subarray(32, 40), key: pool.subarray(0, 8), mechanism: { mechanism: 0x0d, parameter: Buffer.from([9, 9]) }, input: request.subarray(5, 37) },
    // C_GenerateRandom: a session and nothing else.
    { id: 4, library: '/lib/a.so', kind: 'random', session: pool.subarray(48, 56), input: new Uint8Array(0), outputBytes: 32 },
  ];

  it('puts every byte field of every job into one buffer of exactly their size, with the same bytes', () => {
    const { jobs: packed, arena } = packJobs(jobs);

    const bytes = (job: OffloadJob) => {
      const p = job.mechanism?.parameter as unknown;
      const params = p instanceof Uint8Array ? [p] : Object.values((p ?? {})).filter((v): v is Uint8Array => v instanceof Uint8Array);
      return [job.session, ...(job.key ? [job.key] : []), job.input, ...(job.signature ? [job.signature] : []), ...params];
    };
    expect(arena.byteLength).toBe(jobs.flatMap(bytes).reduce((n, b) => n + b.byteLength, 0));
    packed.forEach((job, i) => {
      const original = bytes(jobs[i] as OffloadJob);
      bytes(job).forEach((b, k) => {
        expect(b.buffer).toBe(arena);
        expect(Buffer.from(b).equals(Buffer.from(original[k] as Uint8Array))).toBe(true);
      });
    });
  });

  it('keeps everything else of a job and leaves the originals alone', () => {
    const { jobs: packed } = packJobs(jobs);

    expect(packed.map(({ id, library, kind, outputBytes }) => ({ id, library, kind, outputBytes }))).toEqual(jobs.map(({ id, library, kind, outputBytes }) => ({ id, library, kind, outputBytes })));
    expect((packed[0]?.mechanism?.parameter as unknown as { tagBits: number }).tagBits).toBe(128);
    expect(packed[1]?.mechanism).toEqual({ mechanism: 0x1044 });
    expect(packed[3]).not.toHaveProperty('mechanism');
    expect(packed[3]).not.toHaveProperty('key');
    expect(jobs[0]?.input.buffer).toBe(request.buffer);
  });

  it('sends only the bytes through a real message port, where a view alone would carry its whole buffer', async () => {
    const { port1, port2 } = new MessageChannel();
    const received = (message: unknown, transfer: TransferListItem[] = []) =>
      new Promise<{ jobs: OffloadJob[] }>((resolve) => {
        port2.once('message', (data: { jobs: OffloadJob[] }) => resolve(data));
        port1.postMessage(message, transfer);
      });
    try {
      const { jobs: packed, arena } = packJobs(jobs);
      const size = arena.byteLength;
      const viaArena = await received({ jobs: packed }, [arena]);
      const plain = await received({ jobs });

      expect(viaArena.jobs[0]?.input.buffer.byteLength).toBe(size);
      expect(size).toBeLessThan(2_000);
      // Transferred, not copied: the sender's arena is gone.
      expect(arena.byteLength).toBe(0);
      expect(plain.jobs[0]?.input.buffer.byteLength).toBe(request.buffer.byteLength);
    } finally {
      port1.close();
      port2.close();
    }
  });
});

describe('packResults', () => {
  // As a worker answers: outputs in buffers of their own, an IV that is a view into the jobs' arena, a verify, a failure.
  const jobsArena = new ArrayBuffer(4096);
  const results: OffloadResult[] = [
    { id: 1, output: Buffer.alloc(1040, 7), iv: new Uint8Array(jobsArena, 100, 12).fill(5) },
    { id: 2, verified: true },
    { id: 3, failure: { name: 'Pkcs11Error', message: 'CKR_KEY_HANDLE_INVALID', code: 0x60, method: 'C_SignInit' } },
    { id: 4, output: Buffer.alloc(64, 9) },
  ];

  it('puts every output and IV into one buffer of exactly their size, with the same bytes, and passes the rest unchanged', () => {
    const { results: packed, arena } = packResults(results);

    expect(arena.byteLength).toBe(1040 + 12 + 64);
    expect(packed[0]?.output?.buffer).toBe(arena);
    expect(packed[0]?.iv?.buffer).toBe(arena);
    expect(packed[3]?.output?.buffer).toBe(arena);
    expect(Buffer.from(packed[0]?.output as Uint8Array).equals(Buffer.alloc(1040, 7))).toBe(true);
    expect(Buffer.from(packed[0]?.iv as Uint8Array).equals(Buffer.alloc(12, 5))).toBe(true);
    expect(Buffer.from(packed[3]?.output as Uint8Array).equals(Buffer.alloc(64, 9))).toBe(true);
    expect(packed[1]).toEqual({ id: 2, verified: true });
    expect(packed[2]).toBe(results[2]);
    expect(packed.map((r) => r.id)).toEqual([1, 2, 3, 4]);
  });

  it('sends the results through a real message port in the one buffer, transferred, and leaves the jobs\' arena behind', async () => {
    const { port1, port2 } = new MessageChannel();
    try {
      const { results: packed, arena } = packResults(results);
      const received = new Promise<{ results: OffloadResult[] }>((resolve) => port2.once('message', resolve));
      port1.postMessage({ results: packed }, [arena]);
      const got = (await received).results;

      expect(arena.byteLength).toBe(0);
      expect(got[0]?.output?.buffer).toBe(got[3]?.output?.buffer);
      expect(got[0]?.iv?.buffer.byteLength).toBe(1040 + 12 + 64);
      expect(jobsArena.byteLength).toBe(4096);
      expect(Buffer.from(got[3]?.output as Uint8Array).equals(Buffer.alloc(64, 9))).toBe(true);
      expect(got[2]?.failure?.code).toBe(0x60);
    } finally {
      port1.close();
      port2.close();
    }
  });
});

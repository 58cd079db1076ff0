import * as pkcs11js from 'pkcs11js';
import { HsmExceptionCode } from '../hsm.exception';
import { toHsmException } from '../pkcs11-error.mapper';
import { WorkerLibraries, failureOf } from './offload-jobs';
import type { OffloadJob, OffloadResult } from './offload.protocol';
import { errorOf } from './pkcs11-offload';

describe('the PKCS#11 failures that cross from a worker thread', () => {
  it('keep the CKR value and the function that failed, so the main thread maps them as its own', () => {
    const inWorker = new pkcs11js.Pkcs11Error('CKR_KEY_HANDLE_INVALID', pkcs11js.CKR_KEY_HANDLE_INVALID, 'C_SignInit');

    const sut = errorOf(structuredClone(failureOf(inWorker)));

    expect(sut).toBeInstanceOf(pkcs11js.Pkcs11Error);
    expect(sut).toMatchObject({ message: 'CKR_KEY_HANDLE_INVALID', code: pkcs11js.CKR_KEY_HANDLE_INVALID, method: 'C_SignInit' });
    expect(toHsmException(sut, 'C_Sign')).toMatchObject({ code: HsmExceptionCode.KeyHandleInvalid, ckr: 'CKR_KEY_HANDLE_INVALID' });
  });

  it('turn any other error into a plain error with its name and message, which maps to a device error', () => {
    const sut = errorOf(failureOf(new TypeError('Parameter 1 MUST be Buffer')));

    expect(sut).not.toBeInstanceOf(pkcs11js.Pkcs11Error);
    expect(sut).toMatchObject({ name: 'TypeError', message: 'Parameter 1 MUST be Buffer' });
    expect(toHsmException(sut, 'C_Sign').code).toBe(HsmExceptionCode.DeviceError);
  });

  it('say nothing of a thrown non-error value', () => {
    expect(failureOf('PIN 1234')).toEqual({ name: 'Error', message: 'the worker thread failed with a non-error value' });
  });
});

describe('WorkerLibraries.run', () => {
  // Jobs whose library cannot be loaded: each fails at once, which is all these tests need to see how results are answered.
  const jobs: OffloadJob[] = Array.from({ length: 10 }, (_, i) => ({
    id: i + 1,
    library: '/nonexistent/libpkcs11-missing.so',
    kind: 'encrypt',
    session: Buffer.alloc(8),
    key: Buffer.alloc(8),
    mechanism: { mechanism: 0 },
    input: Buffer.alloc(1),
  }));
  /** A clock that moves 0.1 ms each time it is read. */
  const ticking = () => {
    let t = 0;
    return () => (t += 0.1);
  };
  const answered = async (calls: 'sync' | 'async', replyEveryMs: number, these: readonly OffloadJob[] = jobs) => {
    const replies: OffloadResult[][] = [];
    await new WorkerLibraries().run(these, calls, (results) => replies.push(results), replyEveryMs, ticking());
    return replies;
  };

  it('with sync calls answers the jobs done whenever replyEveryMs has passed, each job once and in order', async () => {
    const replies = await answered('sync', 0.25);

    expect(replies.map((r) => r.length)).toEqual([3, 3, 3, 1]);
    expect(replies.flat().map((r) => r.id)).toEqual(jobs.map((j) => j.id));
    // (Under jest the addon's error comes from another realm, so its message is not passed on here.)
    expect(replies.flat().every((r) => r.failure !== undefined && r.output === undefined)).toBe(true);
  });

  it('answers every job on its own with replyEveryMs 0, and all in one reply when the time never runs out', async () => {
    expect((await answered('sync', 0)).map((r) => r.length)).toEqual(Array(10).fill(1));
    expect((await answered('sync', 1_000)).map((r) => r.length)).toEqual([10]);
  });

  it('does not answer inside an in-order group (answerWithNext), only after its last job', async () => {
    // Jobs 1-2 alone, 3-8 one in-order group (all but its last marked), 9-10 alone.
    const grouped = jobs.map((job) => (job.id >= 3 && job.id < 8 ? { ...job, answerWithNext: true as const } : job));
    const replies = await answered('sync', 0.25, grouped);

    expect(replies.map((r) => r.map((x) => x.id))).toEqual([[1, 2, 3, 4, 5, 6, 7, 8], [9, 10]]);
    expect((await answered('sync', 0, grouped)).map((r) => r.map((x) => x.id))).toEqual([[1], [2], [3, 4, 5, 6, 7, 8], [9], [10]]);
  });

  it('with async calls answers all jobs together, since they run at once', async () => {
    expect((await answered('async', 0)).map((r) => r.length)).toEqual([10]);
  });
});

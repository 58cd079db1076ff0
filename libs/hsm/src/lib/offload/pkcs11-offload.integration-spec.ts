import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import * as pkcs11js from 'pkcs11js';
import { aesGcmEncrypt, createTestKey, findByLabel, slotOf, SOFTHSM_MODULE, suiteTokens, type SuiteTokens } from '../../testing/softhsm.test-kit';
import { HsmExceptionCode } from '../hsm.exception';
import { AesGcmMechanism } from '../mechanism/mechanisms';
import { Pkcs11Module } from '../module/pkcs11-module';
import { Pkcs11Offload } from './pkcs11-offload';

const RW = pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION;

describe(`${Pkcs11Offload.name} against SoftHSM2`, () => {
  let hsm: SuiteTokens;
  let token: { label: string; pin: string };
  let module: Pkcs11Module;
  let sessions: Buffer[];
  let key: Buffer;
  let sut: Pkcs11Offload;

  const lost: { why: string; restarted: boolean }[] = [];

  beforeAll(async () => {
    hsm = suiteTokens('offload');
    token = hsm.initToken('app_blue');
    sut = Pkcs11Offload.start({ workers: 2, calls: 'sync', onWorkerLost: (why, restarted) => lost.push({ why, restarted }) });
    await sut.ready();
    module = Pkcs11Module.open({ libraryPath: SOFTHSM_MODULE, isolatedCopyDir: join(hsm.dir, 'modules'), offload: sut });
    sessions = Array.from({ length: 8 }, () => module.lib.C_OpenSession(slotOf(module.lib, token.label), RW));
    module.lib.C_Login(sessions[0] as Buffer, pkcs11js.CKU_USER, token.pin);
    createTestKey.aes(module.lib, sessions[0] as Buffer, 'orders/v1');
    key = findByLabel(module.lib, sessions[0] as Buffer, 'orders/v1')[0] as Buffer;
  });

  afterAll(async () => {
    await sut.close();
    module.close();
    hsm.remove();
  });

  const encryptJob = (session: Buffer, iv: Buffer, plaintext: Buffer) => ({
    library: module.path,
    kind: 'encrypt' as const,
    session,
    key,
    mechanism: new AesGcmMechanism(iv, Buffer.alloc(0)).toPkcs11(),
    input: plaintext,
    outputBytes: plaintext.length + AesGcmMechanism.TAG_BYTES,
  });

  it("works in the main thread's sessions with its key handles: its ciphertext is what the main thread computes", async () => {
    const iv = Buffer.alloc(12, 7);
    const plaintext = Buffer.from('card 4111');

    const done = await sut.run(encryptJob(sessions[1] as Buffer, iv, plaintext));

    expect(done.iv?.equals(iv)).toBe(true);
    expect(done.output?.equals(aesGcmEncrypt(module.lib, sessions[2] as Buffer, key, plaintext, iv))).toBe(true);
  });

  it('sends the jobs of one event-loop turn as at most one message per worker', async () => {
    const before = sut.stats();

    const outputs = await Promise.all(sessions.map((session, i) => sut.run(encryptJob(session, Buffer.alloc(12, i), Buffer.from(`m${i}`)))));

    const after = sut.stats();
    expect(outputs.every((o) => o.output?.length === 2 + 16)).toBe(true);
    expect(after.jobs - before.jobs).toBe(8);
    expect(after.messages - before.messages).toBe(2);
    expect(after.outstanding).toBe(0);
  });

  it('answers part of a message early when told to: with replyEveryMs 0 every job comes back on its own', async () => {
    const eager = Pkcs11Offload.start({ workers: 1, calls: 'sync', replyEveryMs: 0 });
    try {
      await eager.ready();
      const plaintexts = sessions.map((_, i) => Buffer.from(`early ${i}`));

      const outputs = await Promise.all(sessions.map((session, i) => eager.run(encryptJob(session, Buffer.alloc(12, 40 + i), plaintexts[i] as Buffer))));

      const stats = eager.stats();
      expect(stats).toMatchObject({ messages: 1, jobs: 8, replies: 8, outstanding: 0 });
      // Its busy time counts the work: more after more jobs.
      expect(stats.busyMs).toBeGreaterThan(0);
      await Promise.all(sessions.map((session, i) => eager.run(encryptJob(session, Buffer.alloc(12, 50 + i), Buffer.alloc(4096)))));
      expect(eager.stats().busyMs).toBeGreaterThan(stats.busyMs);
      outputs.forEach((o, i) => expect(o.output?.equals(aesGcmEncrypt(module.lib, sessions[0] as Buffer, key, plaintexts[i] as Buffer, Buffer.alloc(12, 40 + i)))).toBe(true));
    } finally {
      await eager.close();
    }
  });

  it('answers jobs in order in one reply even when told to answer early, and unary jobs beside them early', async () => {
    const eager = Pkcs11Offload.start({ workers: 1, calls: 'sync', replyEveryMs: 0 });
    try {
      await eager.ready();
      const session = sessions[3] as Buffer;
      const group = Array.from({ length: 6 }, (_, i) => encryptJob(session, Buffer.alloc(12, 60 + i), Buffer.from(`in order ${i}`)));

      // One turn: a group of six in one session, and two jobs of their own in other sessions.
      const [inOrder, ...alone] = await Promise.all([
        eager.runInOrder(group),
        eager.run(encryptJob(sessions[4] as Buffer, Buffer.alloc(12, 70), Buffer.from('alone 1'))),
        eager.run(encryptJob(sessions[5] as Buffer, Buffer.alloc(12, 71), Buffer.from('alone 2'))),
      ]);

      // One message of eight jobs; the group's six come back in one reply, the other two in one each.
      expect(eager.stats()).toMatchObject({ messages: 1, jobs: 8, replies: 3, outstanding: 0 });
      expect(inOrder).toHaveLength(6);
      inOrder.forEach((o, i) => {
        if (o instanceof Error) throw o;
        expect(o.output?.equals(aesGcmEncrypt(module.lib, sessions[0] as Buffer, key, Buffer.from(`in order ${i}`), Buffer.alloc(12, 60 + i)))).toBe(true);
      });
      expect(alone.every((o) => o.output?.length === 7 + 16)).toBe(true);
    } finally {
      await eager.close();
    }
  });

  it('rejects a PKCS#11 failure as the Pkcs11Error the call made, naming the function that failed', async () => {
    const closed = module.lib.C_OpenSession(slotOf(module.lib, token.label), RW);
    module.lib.C_CloseSession(closed);

    const failure = await sut.run(encryptJob(closed, Buffer.alloc(12), Buffer.from('x'))).catch((err: unknown) => err);

    expect(failure).toBeInstanceOf(pkcs11js.Pkcs11Error);
    expect(failure).toMatchObject({ message: 'CKR_SESSION_HANDLE_INVALID', method: 'C_EncryptInit' });
  });

  it('fails the jobs of a worker that stopped with a device error and replaces the worker', async () => {
    const threads = (sut as unknown as { threads: { worker: Worker }[] }).threads;
    const running = sut.run(encryptJob(sessions[3] as Buffer, Buffer.alloc(12, 1), Buffer.from('x'))).catch((err: unknown) => err);
    await Promise.all(threads.map((t) => t.worker.terminate()));

    expect(await running).toMatchObject({ code: HsmExceptionCode.DeviceError });
    expect(sut.stats().workers).toBe(2);
    expect(lost).toEqual([
      { why: 'exit code 1', restarted: true },
      { why: 'exit code 1', restarted: true },
    ]);
    await sut.ready();
    await expect(sut.run(encryptJob(sessions[3] as Buffer, Buffer.alloc(12, 2), Buffer.from('y')))).resolves.toMatchObject({ iv: Buffer.alloc(12, 2) });
  });

  it('refuses a worker count below one', () => {
    expect(() => Pkcs11Offload.start({ workers: 0, calls: 'sync' })).toThrow('the PKCS#11 offload needs at least one worker thread');
  });

  it('fails what is outstanding and everything after with PoolClosed once closed', async () => {
    const other = Pkcs11Offload.start({ workers: 1, calls: 'async' });
    await other.run(encryptJob(sessions[4] as Buffer, Buffer.alloc(12, 3), Buffer.from('warm')));
    const outstanding = other.run(encryptJob(sessions[4] as Buffer, Buffer.alloc(12, 4), Buffer.from('x'))).catch((err: unknown) => err);

    await other.close();

    expect(await outstanding).toMatchObject({ code: HsmExceptionCode.PoolClosed });
    await expect(other.run(encryptJob(sessions[5] as Buffer, Buffer.alloc(12, 5), Buffer.from('y')))).rejects.toMatchObject({ code: HsmExceptionCode.PoolClosed });
    expect(other.stats()).toMatchObject({ workers: 0, outstanding: 0 });
  });
});

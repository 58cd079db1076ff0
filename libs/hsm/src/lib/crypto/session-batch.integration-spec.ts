import { createHash, verify as nodeVerify, constants } from 'node:crypto';
import { join } from 'node:path';
import * as pkcs11js from 'pkcs11js';
import { createTestKey, slotOf, SOFTHSM_MODULE, suiteTokens, type SuiteTokens } from '../../testing/softhsm.test-kit';
import { FaultInjector } from '../fault/fault-injector';
import { HsmException, HsmExceptionCode } from '../hsm.exception';
import { Pkcs11Module } from '../module/pkcs11-module';
import { Pkcs11Offload } from '../offload/pkcs11-offload';
import { SessionPool } from '../session/session-pool';
import { HsmCrypto, type SessionBatch } from './hsm-crypto';

const RW = pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION;
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();
const codeOf = (outcome: unknown) => (outcome instanceof HsmException ? outcome.code : 'ok');

describe(`${HsmCrypto.name}.inOneSession (batches in one session) against SoftHSM2`, () => {
  let hsm: SuiteTokens;
  let token: { label: string; pin: string };
  let offload: Pkcs11Offload;
  let admin: Pkcs11Module;
  let adminSession: Buffer;
  let module: Pkcs11Module;
  let pool: SessionPool;
  let faults: FaultInjector;
  let sut: HsmCrypto;
  let batch: SessionBatch;

  beforeAll(async () => {
    offload = Pkcs11Offload.start({ workers: 2, calls: 'sync' });
    await offload.ready();
    hsm = suiteTokens('session-batch');
    token = hsm.initToken('app_blue');
    admin = Pkcs11Module.open({ libraryPath: SOFTHSM_MODULE, isolatedCopyDir: join(hsm.dir, 'modules') });
    adminSession = admin.lib.C_OpenSession(slotOf(admin.lib, token.label), RW);
    admin.lib.C_Login(adminSession, pkcs11js.CKU_USER, token.pin);
    createTestKey.aes(admin.lib, adminSession, 'orders/v1');
    createTestKey.ec(admin.lib, adminSession, 'signing-p256/v1', 'P-256');
    createTestKey.rsa(admin.lib, adminSession, 'signing-rsa/v1');
  });

  afterAll(async () => {
    admin.close();
    hsm.remove();
    await offload.close();
  });

  const open = (withOffload: Pkcs11Offload | undefined) => {
    module = Pkcs11Module.open({ libraryPath: SOFTHSM_MODULE, isolatedCopyDir: join(hsm.dir, 'modules'), ...(withOffload ? { offload: withOffload } : {}) });
    faults = new FaultInjector();
    pool = new SessionPool({ name: 'batch-test/app_blue', module, slot: module.slotByTokenLabel(token.label), pin: () => Promise.resolve(token.pin), size: 4, faults });
    sut = new HsmCrypto(pool);
  };

  beforeEach(() => {
    open(offload);
    batch = sut.inOneSession as SessionBatch;
  });

  afterEach(async () => {
    await pool.close();
    module.close();
  });

  it('is there only when a worker runs the jobs in order (sync calls)', async () => {
    expect(batch).toBeDefined();
    await pool.close();
    module.close();

    open(undefined);
    expect(sut.inOneSession).toBeUndefined();
    await pool.close();
    module.close();

    const async = Pkcs11Offload.start({ workers: 1, calls: 'async' });
    try {
      open(async);
      expect(sut.inOneSession).toBeUndefined();
      await expect(async.runInOrder([])).rejects.toMatchObject({ code: HsmExceptionCode.InvalidInput });
    } finally {
      await pool.close();
      module.close();
      await async.close();
      open(offload);
    }
  });

  it('encrypts 40 items in one session and one message to one worker; each decrypts on its own', async () => {
    const items = Array.from({ length: 40 }, (_, i) => ({ label: 'orders/v1', plaintext: Buffer.from(`item ${i}`), aad: Buffer.from(`n=${i}`) }));
    await sut.random(1);
    const before = offload.stats();

    const sealed = await batch.encrypt(items);

    const after = offload.stats();
    expect(after.messages - before.messages).toBe(1);
    expect(after.jobs - before.jobs).toBe(40);
    expect(module.counters).toMatchObject({ maxOpenSessions: 1, logins: 1, objectSearches: 1 });
    const ivs = new Set(sealed.map((s) => (s instanceof Error ? 'error' : s.iv.toString('hex'))));
    expect(ivs.size).toBe(40);
    const opened = await Promise.all(sealed.map((s, i) => sut.decrypt('orders/v1', s as { iv: Buffer; ciphertext: Buffer }, Buffer.from(`n=${i}`))));
    expect(opened.map(String)).toEqual(items.map((i) => i.plaintext.toString()));
  });

  it("fails an item alone for a bad tag, a wrong AAD, a malformed blob or an unknown key, and decrypts the others", async () => {
    const [a, b, c] = (await batch.encrypt([0, 1, 2].map((i) => ({ label: 'orders/v1', plaintext: Buffer.from(`p${i}`), aad: Buffer.from('x') })))) as { iv: Buffer; ciphertext: Buffer }[];
    const tampered = Buffer.from((b as { ciphertext: Buffer }).ciphertext);
    tampered[0] = (tampered[0] ?? 0) ^ 1;

    const opened = await batch.decrypt([
      { label: 'orders/v1', sealed: a as { iv: Buffer; ciphertext: Buffer }, aad: Buffer.from('x') },
      { label: 'orders/v1', sealed: { iv: (b as { iv: Buffer }).iv, ciphertext: tampered }, aad: Buffer.from('x') },
      { label: 'orders/v1', sealed: c as { iv: Buffer; ciphertext: Buffer }, aad: Buffer.from('y') },
      { label: 'orders/v1', sealed: { iv: Buffer.alloc(3), ciphertext: Buffer.alloc(20) }, aad: Buffer.from('x') },
      { label: 'nope/v1', sealed: a as { iv: Buffer; ciphertext: Buffer }, aad: Buffer.from('x') },
      { label: 'orders/v1', sealed: c as { iv: Buffer; ciphertext: Buffer }, aad: Buffer.from('x') },
    ]);

    expect(opened.map(codeOf)).toEqual(['ok', HsmExceptionCode.AuthenticationFailed, HsmExceptionCode.AuthenticationFailed, HsmExceptionCode.AuthenticationFailed, HsmExceptionCode.KeyNotFound, 'ok']);
    expect(String(opened[0])).toBe('p0');
    expect(String(opened[5])).toBe('p2');
  });

  it('signs with EC and RSA keys in one session (ECDSA in DER), and refuses the wrong kind of key per item', async () => {
    const message = Buffer.from('transfer 100 EUR');
    const signed = await batch.sign([
      { label: 'signing-p256/v1', scheme: 'ecdsa', hash: 'sha256', digest: sha256(message) },
      { label: 'signing-rsa/v1', scheme: 'rsa-pss', hash: 'sha256', digest: sha256(message) },
      { label: 'signing-rsa/v1', scheme: 'ecdsa', hash: 'sha256', digest: sha256(message) },
    ]);

    expect(signed.map(codeOf)).toEqual(['ok', 'ok', HsmExceptionCode.KeyNotPermitted]);
    expect(nodeVerify('sha256', message, await sut.publicKey('signing-p256/v1'), signed[0] as Buffer)).toBe(true);
    const pss = { key: await sut.publicKey('signing-rsa/v1'), padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
    expect(nodeVerify('sha256', message, pss, signed[1] as Buffer)).toBe(true);
  });

  it('looks a key up again once when its cached handle became invalid', async () => {
    await batch.encrypt([{ label: 'orders/v1', plaintext: Buffer.from('warm'), aad: Buffer.alloc(0) }]);
    const searches = module.counters.objectSearches;
    admin.lib.C_FindObjectsInit(adminSession, [{ type: pkcs11js.CKA_LABEL, value: 'orders/v1' }]);
    const [old] = admin.lib.C_FindObjects(adminSession, 2);
    admin.lib.C_FindObjectsFinal(adminSession);
    admin.lib.C_DestroyObject(adminSession, old as Buffer);
    createTestKey.aes(admin.lib, adminSession, 'orders/v1');

    const sealed = await batch.encrypt([0, 1, 2].map((i) => ({ label: 'orders/v1', plaintext: Buffer.from(`after ${i}`), aad: Buffer.alloc(0) })));

    expect(sealed.map(codeOf)).toEqual(['ok', 'ok', 'ok']);
    expect(module.counters.objectSearches).toBe(searches + 1);
    expect(String(await sut.decrypt('orders/v1', sealed[2] as { iv: Buffer; ciphertext: Buffer }, Buffer.alloc(0)))).toBe('after 2');
  });

  it('fails the whole call when the login is gone or a fault is injected, and works again after', async () => {
    const items = [0, 1].map((i) => ({ label: 'orders/v1', plaintext: Buffer.from(`m${i}`), aad: Buffer.alloc(0) }));
    await batch.encrypt(items);
    const outOfBand = module.lib.C_OpenSession(module.slotByTokenLabel(token.label), RW);
    module.lib.C_Logout(outOfBand);
    module.lib.C_CloseSession(outOfBand);

    await expect(batch.encrypt(items)).rejects.toMatchObject({ code: HsmExceptionCode.NotLoggedIn });
    expect((await batch.encrypt(items)).map(codeOf)).toEqual(['ok', 'ok']);
    expect(module.counters.logins).toBe(2);

    faults.set({ errorRate: 1 });
    await expect(batch.encrypt(items)).rejects.toMatchObject({ code: HsmExceptionCode.InjectedFault });
    faults.clear();
    expect(pool.stats()).toMatchObject({ busy: 0, loggedIn: true });
  });
});

import { createHash, verify as nodeVerify, constants } from 'node:crypto';
import { join } from 'node:path';
import * as pkcs11js from 'pkcs11js';
import { createTestKey, slotOf, SOFTHSM_MODULE, suiteTokens, type SuiteTokens } from '../../testing/softhsm.test-kit';
import { HsmCrypto } from '../crypto/hsm-crypto';
import { FaultInjector } from '../fault/fault-injector';
import { HsmExceptionCode } from '../hsm.exception';
import type { HashAlgorithm, SignatureScheme } from '../mechanism/mechanisms';
import { Pkcs11Module } from '../module/pkcs11-module';
import type { OffloadCalls } from '../offload/offload.protocol';
import { Pkcs11Offload } from '../offload/pkcs11-offload';
import { SessionPool } from './session-pool';

const RW = pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION;
const sha = (hash: HashAlgorithm, data: Buffer) => createHash(hash).update(data).digest();

// Every case runs with the operations on the main thread (C_*Init there, the operation on libuv's
// pool) and on worker threads (Pkcs11Offload) in both of its call styles.
describe.each<[string, OffloadCalls | undefined]>([
  ['on the main thread', undefined],
  ['on worker threads (sync calls)', 'sync'],
  ['on worker threads (async calls)', 'async'],
])(`${SessionPool.name} and ${HsmCrypto.name} against SoftHSM2, operations %s`, (_mode, calls) => {
  let offload: Pkcs11Offload | undefined;
  let hsm: SuiteTokens;
  let token: { label: string; pin: string };
  let module: Pkcs11Module;
  let pool: SessionPool;
  let sut: HsmCrypto;
  let faults: FaultInjector;
  /** A second library instance playing the admin plane (creates and destroys keys). */
  let admin: Pkcs11Module;
  let adminSession: Buffer;

  beforeAll(() => {
    if (calls) offload = Pkcs11Offload.start({ workers: 2, calls });
    hsm = suiteTokens(`pool-${calls ?? 'main'}`);
    token = hsm.initToken('app_blue');
    admin = Pkcs11Module.open({ libraryPath: SOFTHSM_MODULE, isolatedCopyDir: join(hsm.dir, 'modules') });
    adminSession = admin.lib.C_OpenSession(slotOf(admin.lib, token.label), RW);
    admin.lib.C_Login(adminSession, pkcs11js.CKU_USER, token.pin);
    createTestKey.aes(admin.lib, adminSession, 'orders/v1');
    createTestKey.hmac(admin.lib, adminSession, 'tokens-mac/v1');
    createTestKey.ec(admin.lib, adminSession, 'signing-p256/v1', 'P-256');
    createTestKey.ec(admin.lib, adminSession, 'signing-p384/v1', 'P-384');
    createTestKey.rsa(admin.lib, adminSession, 'signing-rsa/v1');
  });

  afterAll(async () => {
    admin.close();
    hsm.remove();
    await offload?.close();
  });

  beforeEach(() => {
    module = Pkcs11Module.open({ libraryPath: SOFTHSM_MODULE, isolatedCopyDir: join(hsm.dir, 'modules'), ...(offload ? { offload } : {}) });
    faults = new FaultInjector();
    pool = new SessionPool({ name: 'pool-test/app_blue', module, slot: module.slotByTokenLabel(token.label), pin: () => Promise.resolve(token.pin), size: 4, faults });
    sut = new HsmCrypto(pool);
  });

  afterEach(async () => {
    await pool.close();
    module.close();
  });

  it('encrypts and decrypts with AES-256-GCM, binding the AAD', async () => {
    const aad = Buffer.from('tenant=42');
    const sealed = await sut.encrypt('orders/v1', Buffer.from('card 4111'), aad);

    expect(sealed.iv).toHaveLength(12);
    expect(sealed.ciphertext).toHaveLength(9 + 16);
    expect((await sut.decrypt('orders/v1', sealed, aad)).toString()).toBe('card 4111');
  });

  it('with the IV from the HSM, refuses to answer a ciphertext when the library wrote no IV back (SoftHSM2 uses the caller\'s)', async () => {
    // CloudHSM generates the IV and writes it into the mechanism; SoftHSM2 encrypts under the
    // all-zero IV it was handed. A blob must never carry an IV other than the one used.
    const fromHsm = new HsmCrypto(pool, 'hsm');
    const failure = fromHsm.encrypt('orders/v1', Buffer.from('x'), Buffer.alloc(0));

    await expect(failure).rejects.toMatchObject({ code: HsmExceptionCode.DeviceError });
    await expect(failure).rejects.toThrow('the HSM did not return the AES-GCM IV it generated');
  });

  it('with the IV from the HSM, fails a shared-session batch the same way', async () => {
    const batch = new HsmCrypto(pool, 'hsm').inOneSession;
    // Shared sessions exist only with sync worker calls.
    expect(batch === undefined).toBe(calls !== 'sync');

    if (batch) await expect(batch.encrypt([{ label: 'orders/v1', plaintext: Buffer.from('y'), aad: Buffer.alloc(0) }])).rejects.toMatchObject({ code: HsmExceptionCode.DeviceError });
  });

  it('refuses tampered ciphertext and a wrong AAD as an authentication failure', async () => {
    const sealed = await sut.encrypt('orders/v1', Buffer.from('secret'), Buffer.from('a'));
    const tampered = Buffer.from(sealed.ciphertext);
    tampered[0] = (tampered[0] ?? 0) ^ 1;

    await expect(sut.decrypt('orders/v1', { iv: sealed.iv, ciphertext: tampered }, Buffer.from('a'))).rejects.toMatchObject({ code: HsmExceptionCode.AuthenticationFailed });
    await expect(sut.decrypt('orders/v1', sealed, Buffer.from('b'))).rejects.toMatchObject({ code: HsmExceptionCode.AuthenticationFailed });
  });

  it.each<[string, SignatureScheme, HashAlgorithm]>([
    ['signing-p256/v1', 'ecdsa', 'sha256'],
    ['signing-p384/v1', 'ecdsa', 'sha384'],
    ['signing-rsa/v1', 'rsa-pss', 'sha256'],
    ['signing-rsa/v1', 'rsa-pss', 'sha512'],
    ['signing-rsa/v1', 'rsa-pkcs1', 'sha384'],
  ])('signs with %s (%s, %s) so that node:crypto verifies the message with the exported public key', async (label, scheme, hash) => {
    const message = Buffer.from('transfer 100 EUR');
    const signature = await sut.sign(label, scheme, hash, sha(hash, message));
    const publicKey = await sut.publicKey(label);
    const padding = scheme === 'rsa-pss' ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : {};

    expect(nodeVerify(hash, message, { key: publicKey, ...padding }, signature)).toBe(true);
    expect(await sut.verify(label, scheme, hash, sha(hash, message), signature)).toBe(true);
    expect(await sut.verify(label, scheme, hash, sha(hash, Buffer.from('transfer 900 EUR')), signature)).toBe(false);
  });

  it('computes and verifies an HMAC inside the HSM', async () => {
    const mac = await sut.mac('tokens-mac/v1', 'sha256', Buffer.from('session=abc'));

    expect(mac).toHaveLength(32);
    expect(await sut.verifyMac('tokens-mac/v1', 'sha256', Buffer.from('session=abc'), mac)).toBe(true);
    expect(await sut.verifyMac('tokens-mac/v1', 'sha256', Buffer.from('session=abd'), mac)).toBe(false);
  });

  it('reads a public key from the token once per cached handle, and again after the handle was dropped', async () => {
    const reads = jest.spyOn(module.lib, 'C_GetAttributeValue');
    try {
      const first = await sut.publicKey('signing-p256/v1');
      const afterFirst = reads.mock.calls.length;
      const again = await Promise.all([sut.publicKey('signing-p256/v1'), sut.publicKey('signing-p256/v1')]);

      expect(afterFirst).toBeGreaterThan(0);
      expect(reads.mock.calls.length).toBe(afterFirst);
      expect(again.every((k) => k.equals(first))).toBe(true);

      pool.keys.invalidate('signing-p256/v1');
      expect((await sut.publicKey('signing-p256/v1')).equals(first)).toBe(true);
      expect(reads.mock.calls.length).toBe(2 * afterFirst);
    } finally {
      reads.mockRestore();
    }
  });

  it('returns random bytes of the asked length, made on a worker thread when there are workers', async () => {
    const jobsBefore = offload?.stats().jobs ?? 0;

    const [a, b] = await Promise.all([sut.random(64), sut.random(64)]);

    expect(a).toHaveLength(64);
    expect(a.equals(b)).toBe(false);
    // C_GenerateRandom is a network round trip on CloudHSM: with workers it must not run on the event loop.
    expect((offload?.stats().jobs ?? 0) - jobsBefore).toBe(offload ? 2 : 0);
  });

  it('answers KeyNotFound for an unknown label and KeyNotPermitted for the wrong kind of key', async () => {
    await expect(sut.encrypt('nope/v1', Buffer.from('x'), Buffer.alloc(0))).rejects.toMatchObject({ code: HsmExceptionCode.KeyNotFound });
    await expect(sut.sign('signing-p256/v1', 'rsa-pss', 'sha256', Buffer.alloc(32))).rejects.toMatchObject({ code: HsmExceptionCode.KeyNotPermitted });
  });

  it('never opens more than its size, logs in once and searches each key once under 400 concurrent operations', async () => {
    const results = await Promise.all(Array.from({ length: 400 }, (_, i) => sut.encrypt('orders/v1', Buffer.from(`m${i}`), Buffer.alloc(0))));

    expect(results).toHaveLength(400);
    expect(module.counters).toMatchObject({ maxOpenSessions: 4, logins: 1, objectSearches: 1 });
    expect(pool.stats()).toMatchObject({ size: 4, open: 4, busy: 0, waiting: 0, loggedIn: true });
  });

  it('logs in again only after the library reports the login gone', async () => {
    await sut.random(8);
    // Someone logs the application out of the slot (as a credential change or an HSM failover does).
    const outOfBand = module.lib.C_OpenSession(module.slotByTokenLabel(token.label), RW);
    module.lib.C_Logout(outOfBand);
    module.lib.C_CloseSession(outOfBand);

    await expect(sut.encrypt('orders/v1', Buffer.from('x'), Buffer.alloc(0))).rejects.toMatchObject({ code: HsmExceptionCode.NotLoggedIn });
    await sut.encrypt('orders/v1', Buffer.from('x'), Buffer.alloc(0));
    await sut.encrypt('orders/v1', Buffer.from('y'), Buffer.alloc(0));

    expect(module.counters.logins).toBe(2);
  });

  it('replaces broken sessions', async () => {
    await Promise.all([sut.random(8), sut.random(8), sut.random(8)]);
    const opened = module.counters.sessionsOpened;
    module.lib.C_CloseAllSessions(module.slotByTokenLabel(token.label));

    const first = await sut.random(8).catch((err: { code: HsmExceptionCode }) => err.code);
    expect(first).toBe(HsmExceptionCode.SessionBroken);
    // Closing every session also ended the login; the next operations replace sessions and log in again.
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => sut.random(8).then(() => 'ok', (err: { code: HsmExceptionCode }) => String(err.code))));
    const later = await Promise.all(Array.from({ length: 4 }, () => sut.random(8).then(() => 'ok')));

    const expected: string[] = ['ok', HsmExceptionCode.SessionBroken, HsmExceptionCode.NotLoggedIn];
    expect(outcomes.filter((o) => !expected.includes(o))).toEqual([]);
    expect(later).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(module.counters.sessionsOpened).toBeGreaterThan(opened);
    expect(module.counters.openSessions).toBeLessThanOrEqual(4);
  });

  it('looks a key up again once when its cached handle became invalid', async () => {
    await sut.mac('tokens-mac/v1', 'sha256', Buffer.from('warm'));
    const searches = module.counters.objectSearches;
    // The admin plane replaces the key object under the same label (the old handle dies).
    const [old] = (() => {
      admin.lib.C_FindObjectsInit(adminSession, [{ type: pkcs11js.CKA_LABEL, value: 'tokens-mac/v1' }]);
      try {
        return admin.lib.C_FindObjects(adminSession, 2);
      } finally {
        admin.lib.C_FindObjectsFinal(adminSession);
      }
    })();
    admin.lib.C_DestroyObject(adminSession, old as Buffer);
    createTestKey.hmac(admin.lib, adminSession, 'tokens-mac/v1');

    expect(await sut.mac('tokens-mac/v1', 'sha256', Buffer.from('after'))).toHaveLength(32);
    expect(module.counters.objectSearches).toBe(searches + 1);
  });

  it('injects errors and hangs when told to, and a deadline ends the wait for a hung call', async () => {
    faults.set({ errorRate: 1 });
    await expect(sut.random(8)).rejects.toMatchObject({ code: HsmExceptionCode.InjectedFault });

    faults.set({ hang: true });
    await expect(sut.random(8, Date.now() + 150)).rejects.toMatchObject({ code: HsmExceptionCode.PoolTimeout });
    expect(pool.stats().busy).toBe(1);

    faults.clear();
    await expect(sut.random(8)).resolves.toHaveLength(8);
  });
});

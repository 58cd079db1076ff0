import type { KeyObject } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';
import { HSM_ERROR_TRAITS, HsmException, HsmExceptionCode } from '../hsm.exception';
import type { CachedKey, KeyObjectClass } from '../key/key-handle-cache';
import { AesGcmMechanism, DigestSignatureMechanism, HmacMechanism, type HashAlgorithm, type SignatureScheme } from '../mechanism/mechanisms';
import { execute } from '../offload/offload-jobs';
import type { OffloadOutcome, OffloadRequest } from '../offload/offload.protocol';
import { toHsmException } from '../pkcs11-error.mapper';
import type { SessionPool } from '../session/session-pool';
import { ecdsaDerToRaw, ecdsaRawToDer } from './ecdsa-signature';
import { publicKeyFromObject } from './public-key';
import { RandomIvs } from './random-ivs';

/** Where the AES-GCM IV comes from: the caller (SoftHSM2) or the HSM, which writes it back (CloudHSM). */
export type IvSource = 'caller' | 'hsm';

/** The result of an AES-GCM encryption: the IV that was really used, and ciphertext || tag. */
export interface GcmSealed {
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
}

const MAX_SIGNATURE_BYTES = 512;
const MAX_MAC_BYTES = 64;
/** The input of a job that takes none (C_GenerateRandom). */
const NO_INPUT = Buffer.alloc(0);

/**
 * The crypto operations of one session pool, each in one borrowed session, asynchronous
 * (pkcs11js `*Async`: the library runs on libuv's thread pool, not the event loop; or, when the
 * module has a `Pkcs11Offload`, `C_*Init` and the operation both on a worker thread). Keys are
 * found by label through the pool's handle cache; a handle the library calls invalid is
 * looked up once more, then the error stands.
 */
export class HsmCrypto {
  private readonly ivs = new RandomIvs(AesGcmMechanism.IV_BYTES);
  /**
   * Public keys read so far, by the cached handle they were read through: read once per key
   * object (C_GetAttributeValue runs on the calling thread, a round trip on a networked HSM),
   * and forgotten with the handle when the handle cache drops it.
   */
  private readonly publicKeys = new WeakMap<CachedKey, KeyObject>();

  constructor(
    readonly pool: SessionPool,
    private readonly ivSource: IvSource = 'caller',
  ) {}

  private get lib(): pkcs11js.PKCS11 {
    return this.pool.module.lib;
  }

  /**
   * `C_*Init` and the operation: both on a worker thread when the module has an offload, else
   * the init here and the operation on libuv's pool. @throws pkcs11js.Pkcs11Error naming the failed function
   */
  private operate(request: Omit<OffloadRequest, 'library'>): Promise<OffloadOutcome> {
    const { module } = this.pool;
    return module.offload ? module.offload.run({ ...request, library: module.path }) : execute(module.lib, { ...request, library: module.path }, 'async');
  }

  /** AES-256-GCM inside the HSM with `aad` bound; 96-bit IV, 128-bit tag. */
  encrypt(label: string, plaintext: Buffer, aad: Buffer, deadline?: number): Promise<GcmSealed> {
    return this.withKey(label, 'secret', deadline, async (session, key) => {
      const sent = this.ivSource === 'caller' ? this.ivs.next() : Buffer.alloc(AesGcmMechanism.IV_BYTES);
      const mechanism = new AesGcmMechanism(sent, aad).toPkcs11();
      const done = await this.operate({ kind: 'encrypt', session, key: key.handle, mechanism, input: plaintext, outputBytes: plaintext.length + AesGcmMechanism.TAG_BYTES });
      return this.sealed(done, sent);
    });
  }

  /** Decrypts and authenticates; a wrong key, AAD or tampered input is `AuthenticationFailed`. */
  decrypt(label: string, sealed: GcmSealed, aad: Buffer, deadline?: number): Promise<Buffer> {
    if (!wellFormed(sealed)) return Promise.reject(authenticationFailed());
    return this.withKey(label, 'secret', deadline, async (session, key) => {
      const mechanism = new AesGcmMechanism(sealed.iv, aad).toPkcs11();
      try {
        const done = await this.operate({ kind: 'decrypt', session, key: key.handle, mechanism, input: sealed.ciphertext, outputBytes: sealed.ciphertext.length });
        return done.output ?? Buffer.alloc(0);
      } catch (err) {
        throw decryptFailure(err);
      }
    });
  }

  /** Signs a digest; ECDSA signatures come back DER-encoded. */
  sign(label: string, scheme: SignatureScheme, hash: HashAlgorithm, digest: Buffer, deadline?: number): Promise<Buffer> {
    const mechanism = new DigestSignatureMechanism(scheme, hash);
    return this.withKey(label, 'private', deadline, async (session, key) => {
      assertKeyFits(scheme, key);
      const signature = await this.signIn(session, key, mechanism.toPkcs11(), mechanism.input(digest), MAX_SIGNATURE_BYTES);
      return scheme === 'ecdsa' ? ecdsaRawToDer(signature) : signature;
    });
  }

  /** Verifies a signature over a digest with the public key object of `label`; false when it does not verify. */
  verify(label: string, scheme: SignatureScheme, hash: HashAlgorithm, digest: Buffer, signature: Buffer, deadline?: number): Promise<boolean> {
    const mechanism = new DigestSignatureMechanism(scheme, hash);
    return this.withKey(label, 'public', deadline, async (session, key) => {
      assertKeyFits(scheme, key);
      let raw: Buffer;
      try {
        raw = scheme === 'ecdsa' ? ecdsaDerToRaw(signature, key.orderBytes ?? 0) : signature;
      } catch {
        return false;
      }
      return this.verified(session, key, mechanism.toPkcs11(), mechanism.input(digest), raw);
    });
  }

  /** HMAC with a generic-secret key. */
  mac(label: string, hash: HashAlgorithm, data: Buffer, deadline?: number): Promise<Buffer> {
    return this.withKey(label, 'secret', deadline, async (session, key) => {
      return this.signIn(session, key, new HmacMechanism(hash).toPkcs11(), data, MAX_MAC_BYTES);
    });
  }

  /** Verifies an HMAC inside the HSM (constant time there); false when it does not match. */
  verifyMac(label: string, hash: HashAlgorithm, data: Buffer, mac: Buffer, deadline?: number): Promise<boolean> {
    return this.withKey(label, 'secret', deadline, async (session, key) => {
      return this.verified(session, key, new HmacMechanism(hash).toPkcs11(), data, mac);
    });
  }

  /**
   * Encrypt, decrypt and sign for many items in one borrowed session, one after another on one
   * PKCS#11 worker: the gateway's batches, whose items then cost the main thread no session,
   * pool turn or promise of their own. Only where the module's offload runs jobs in order (sync
   * calls: a worker does one operation at a time anyway, so one session for many items costs no
   * parallelism); undefined otherwise (no offload, or async calls for a networked HSM, where
   * items in sessions of their own overlap).
   */
  get inOneSession(): SessionBatch | undefined {
    return this.pool.module.offload?.inOrder ? this.sessionBatch : undefined;
  }

  private readonly sessionBatch: SessionBatch = {
    encrypt: (items, deadline) =>
      this.inOrder(items, 'secret', deadline, (item) => {
        const sent = this.ivSource === 'caller' ? this.ivs.next() : Buffer.alloc(AesGcmMechanism.IV_BYTES);
        const mechanism = new AesGcmMechanism(sent, item.aad).toPkcs11();
        return {
          request: { kind: 'encrypt', mechanism, input: item.plaintext, outputBytes: item.plaintext.length + AesGcmMechanism.TAG_BYTES },
          answer: (done) => this.sealed(done, sent),
          failure: (err) => toHsmException(err, 'C_Encrypt'),
        };
      }),
    decrypt: (items, deadline) =>
      this.inOrder(items, 'secret', deadline, (item) => {
        if (!wellFormed(item.sealed)) throw authenticationFailed();
        const mechanism = new AesGcmMechanism(item.sealed.iv, item.aad).toPkcs11();
        return {
          request: { kind: 'decrypt', mechanism, input: item.sealed.ciphertext, outputBytes: item.sealed.ciphertext.length },
          answer: (done) => done.output ?? Buffer.alloc(0),
          failure: decryptFailure,
        };
      }),
    sign: (items, deadline) =>
      this.inOrder(items, 'private', deadline, (item, key) => {
        assertKeyFits(item.scheme, key);
        const mechanism = new DigestSignatureMechanism(item.scheme, item.hash);
        return {
          request: { kind: 'sign', mechanism: mechanism.toPkcs11(), input: mechanism.input(item.digest), outputBytes: MAX_SIGNATURE_BYTES },
          answer: (done) => {
            const signature = done.output ?? Buffer.alloc(0);
            return item.scheme === 'ecdsa' ? ecdsaRawToDer(signature) : signature;
          },
          failure: (err) => toHsmException(err, 'C_Sign'),
        };
      }),
  };

  /**
   * Runs the items' jobs in one session, in order on one worker. Each item gets its outcome or
   * its error (unknown key, a bad tag: the others go on); a handle the library calls invalid is
   * looked up once more. A failure that concerns the session or the login (a broken session, a
   * device error, the login gone) fails the whole call, so that the pool replaces the session or
   * logs in again and the caller retries every item.
   */
  private inOrder<I extends { readonly label: string }, T>(
    items: readonly I[],
    keyClass: KeyObjectClass,
    deadline: number | undefined,
    prepare: (item: I, key: CachedKey) => { request: Pick<OffloadRequest, 'kind' | 'mechanism' | 'input' | 'outputBytes'>; answer: (done: OffloadOutcome) => T; failure: (err: unknown) => HsmException },
  ): Promise<(T | HsmException)[]> {
    const { offload, path: library } = this.pool.module;
    if (!offload) return Promise.reject(new HsmException(HsmExceptionCode.InvalidInput, 'items in one session need the PKCS#11 offload'));
    return this.pool.run(async (session) => {
      const settled = new Array<T | HsmException>(items.length);
      let todo = items.map((_, at) => at);
      for (let lookup = 0; lookup < 2 && todo.length > 0; lookup += 1) {
        const sent: { at: number; answer: (done: OffloadOutcome) => T; failure: (err: unknown) => HsmException }[] = [];
        const requests: OffloadRequest[] = [];
        for (const at of todo) {
          const item = items[at] as I;
          try {
            const key = this.pool.findKey(session, item.label, keyClass);
            const { request, answer, failure } = prepare(item, key);
            requests.push({ ...request, session, key: key.handle, library });
            sent.push({ at, answer, failure });
          } catch (err) {
            settled[at] = toHsmException(err, 'key operation');
          }
        }
        const outcomes = requests.length > 0 ? await offload.runInOrder(requests) : [];
        const again: number[] = [];
        outcomes.forEach((outcome, n) => {
          const { at, answer, failure } = sent[n] as (typeof sent)[number];
          let result: T | HsmException;
          try {
            result = outcome instanceof Error ? failure(outcome) : answer(outcome);
          } catch (err) {
            result = toHsmException(err, 'key operation');
          }
          if (result instanceof HsmException && result.code === HsmExceptionCode.KeyHandleInvalid && lookup === 0) {
            this.pool.keys.invalidate((items[at] as I).label);
            again.push(at);
          } else {
            settled[at] = result;
          }
        });
        todo = again;
      }
      const fatal = settled.find((s): s is HsmException => s instanceof HsmException && (HSM_ERROR_TRAITS[s.code].replaceSession || s.code === HsmExceptionCode.NotLoggedIn));
      if (fatal) throw fatal;
      return settled;
    }, deadline);
  }

  /** An encryption's answer: the IV really used and ciphertext || tag. */
  private sealed(done: OffloadOutcome, sent: Buffer): GcmSealed {
    // pkcs11js answers a view of the output buffer (here exactly its length): no copy needed.
    const ciphertext = done.output ?? Buffer.alloc(0);
    // The IV after the call (on a worker, its copy): the one the HSM may have written.
    const iv = done.iv ?? sent;
    // Never emit a blob whose IV is not the one used: if the HSM should have written it back and did not, fail.
    if (this.ivSource === 'hsm' && iv.equals(Buffer.alloc(iv.length))) {
      throw new HsmException(HsmExceptionCode.DeviceError, 'the HSM did not return the AES-GCM IV it generated');
    }
    return { iv, ciphertext };
  }

  /** Random bytes from the HSM's generator (on a worker thread when the module has an offload). */
  random(length: number, deadline?: number): Promise<Buffer> {
    return this.pool.run(async (session) => (await this.operate({ kind: 'random', session, input: NO_INPUT, outputBytes: length })).output ?? Buffer.alloc(0), deadline);
  }

  /** The public key of an EC or RSA key pair. */
  publicKey(label: string, deadline?: number): Promise<KeyObject> {
    return this.withKey(label, 'public', deadline, (session, key) => {
      let publicKey = this.publicKeys.get(key);
      if (!publicKey) this.publicKeys.set(key, (publicKey = publicKeyFromObject(this.lib, session, key.handle, key.keyType)));
      return Promise.resolve(publicKey);
    });
  }

  /** C_SignInit and C_Sign. */
  private async signIn(session: Buffer, key: CachedKey, mechanism: pkcs11js.Mechanism, input: Buffer, outputBytes: number): Promise<Buffer> {
    const done = await this.operate({ kind: 'sign', session, key: key.handle, mechanism, input, outputBytes });
    return done.output ?? Buffer.alloc(0);
  }

  /** C_VerifyInit and C_Verify; false when the signature does not verify. */
  private async verified(session: Buffer, key: CachedKey, mechanism: pkcs11js.Mechanism, input: Buffer, signature: Buffer): Promise<boolean> {
    try {
      return (await this.operate({ kind: 'verify', session, key: key.handle, mechanism, input, signature })).verified === true;
    } catch (err) {
      const failure = toHsmException(err, 'C_Verify');
      if (failure.code === HsmExceptionCode.SignatureInvalid) return false;
      throw failure;
    }
  }

  private withKey<T>(label: string, keyClass: KeyObjectClass, deadline: number | undefined, use: (session: Buffer, key: CachedKey) => Promise<T>): Promise<T> {
    return this.pool.run(async (session) => {
      try {
        return await use(session, this.pool.findKey(session, label, keyClass));
      } catch (err) {
        const failure = toHsmException(err, 'key operation');
        if (failure.code !== HsmExceptionCode.KeyHandleInvalid) throw failure;
        this.pool.keys.invalidate(label);
        return use(session, this.pool.findKey(session, label, keyClass));
      }
    }, deadline);
  }
}

/** What a batch of one session takes (structurally `@keyfleet/gateway`'s `SessionBatch`): per item its outcome or its error. */
export interface SessionBatch {
  encrypt(items: readonly { readonly label: string; readonly plaintext: Buffer; readonly aad: Buffer }[], deadline?: number): Promise<(GcmSealed | HsmException)[]>;
  decrypt(items: readonly { readonly label: string; readonly sealed: GcmSealed; readonly aad: Buffer }[], deadline?: number): Promise<(Buffer | HsmException)[]>;
  sign(items: readonly { readonly label: string; readonly scheme: SignatureScheme; readonly hash: HashAlgorithm; readonly digest: Buffer }[], deadline?: number): Promise<(Buffer | HsmException)[]>;
}

function wellFormed(sealed: GcmSealed): boolean {
  return sealed.iv.length === AesGcmMechanism.IV_BYTES && sealed.ciphertext.length >= AesGcmMechanism.TAG_BYTES;
}

function authenticationFailed(ckr?: string): HsmException {
  return new HsmException(HsmExceptionCode.AuthenticationFailed, 'ciphertext authentication failed', ckr ? { ckr } : {});
}

/**
 * A failed AES-GCM decryption as the caller sees it. A failed C_DecryptInit keeps its own
 * meaning (the key's usage, a bad mechanism); after it, a bad GCM tag is reported differently
 * per library: SoftHSM2 2.6 answers CKR_GENERAL_ERROR (measured in
 * session-pool.integration-spec.ts), others CKR_ENCRYPTED_DATA_INVALID or CKR_FUNCTION_FAILED
 * (which would otherwise read as "busy"); all of them mean authentication failed.
 */
function decryptFailure(err: unknown): HsmException {
  if (err instanceof pkcs11js.Pkcs11Error && err.method === 'C_DecryptInit') return toHsmException(err, 'C_DecryptInit');
  const failure = toHsmException(err, 'C_Decrypt');
  if (failure.code === HsmExceptionCode.AuthenticationFailed || failure.ckr === 'CKR_FUNCTION_FAILED' || failure.ckr === 'CKR_GENERAL_ERROR') return authenticationFailed(failure.ckr);
  return failure;
}

function assertKeyFits(scheme: SignatureScheme, key: CachedKey): void {
  const wanted = scheme === 'ecdsa' ? pkcs11js.CKK_EC : pkcs11js.CKK_RSA;
  if (key.keyType !== wanted) {
    throw new HsmException(HsmExceptionCode.KeyNotPermitted, `the key is not ${scheme === 'ecdsa' ? 'an EC' : 'an RSA'} key`);
  }
}

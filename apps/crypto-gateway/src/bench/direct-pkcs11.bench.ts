// The benchmark's baseline: the same operation called straight through pkcs11js in this
// process, with one session per caller and the library's asynchronous calls: no gRPC, no
// pool, no routing. What the HSM (here SoftHSM2 on this machine) can do at that concurrency.
import { createHash, randomBytes } from 'node:crypto';
import * as pkcs11js from 'pkcs11js';

export type DirectOperation = 'encrypt' | 'decrypt' | 'sign-ecdsa' | 'sign-rsa-pss' | 'hmac';

export class DirectPkcs11 {
  private readonly lib = new pkcs11js.PKCS11();
  private readonly sessions: Buffer[] = [];
  private readonly keys = new Map<string, Buffer>();

  constructor(libraryPath: string, tokenLabel: string, pin: string, sessions: number) {
    this.lib.load(libraryPath);
    this.lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    const slot = this.lib.C_GetSlotList(true).find((s) => this.lib.C_GetTokenInfo(s).label.trim() === tokenLabel);
    if (!slot) throw new Error(`no token ${tokenLabel}`);
    for (let i = 0; i < sessions; i += 1) this.sessions.push(this.lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION));
    this.lib.C_Login(this.sessions[0] as Buffer, pkcs11js.CKU_USER, pin);
  }

  /** The session of caller `index` (callers share sessions round robin when there are fewer). */
  session(index: number): Buffer {
    return this.sessions[index % this.sessions.length] as Buffer;
  }

  /** The handle of the key object `label` of class `keyClass`, found once. */
  key(label: string, keyClass: number): Buffer {
    const cached = this.keys.get(`${keyClass}:${label}`);
    if (cached) return cached;
    const session = this.sessions[0] as Buffer;
    this.lib.C_FindObjectsInit(session, [
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_CLASS, value: keyClass },
    ]);
    const [handle] = this.lib.C_FindObjects(session, 1);
    this.lib.C_FindObjectsFinal(session);
    if (!handle) throw new Error(`no key ${label}`);
    this.keys.set(`${keyClass}:${label}`, handle);
    return handle;
  }

  /** A sealed 1 KiB payload for decrypt runs. */
  async sealed(label: string, plaintext: Buffer): Promise<{ iv: Buffer; ciphertext: Buffer }> {
    const iv = randomBytes(12);
    const session = this.sessions[0] as Buffer;
    this.lib.C_EncryptInit(session, gcm(iv), this.key(label, pkcs11js.CKO_SECRET_KEY));
    return { iv, ciphertext: Buffer.from(await this.lib.C_EncryptAsync(session, plaintext, Buffer.alloc(plaintext.length + 16))) };
  }

  /** Runs one operation in the worker's own session. */
  async run(worker: number, operation: DirectOperation, input: { label: string; data: Buffer; iv?: Buffer }): Promise<Buffer | boolean> {
    const session = this.session(worker);
    switch (operation) {
      case 'encrypt':
        this.lib.C_EncryptInit(session, gcm(randomBytes(12)), this.key(input.label, pkcs11js.CKO_SECRET_KEY));
        return this.lib.C_EncryptAsync(session, input.data, Buffer.alloc(input.data.length + 16));
      case 'decrypt':
        this.lib.C_DecryptInit(session, gcm(input.iv ?? Buffer.alloc(12)), this.key(input.label, pkcs11js.CKO_SECRET_KEY));
        return this.lib.C_DecryptAsync(session, input.data, Buffer.alloc(input.data.length));
      case 'sign-ecdsa':
        this.lib.C_SignInit(session, { mechanism: pkcs11js.CKM_ECDSA }, this.key(input.label, pkcs11js.CKO_PRIVATE_KEY));
        return this.lib.C_SignAsync(session, createHash('sha256').update(input.data).digest(), Buffer.alloc(512));
      case 'sign-rsa-pss':
        this.lib.C_SignInit(session, { mechanism: pkcs11js.CKM_RSA_PKCS_PSS, parameter: PSS_SHA256 }, this.key(input.label, pkcs11js.CKO_PRIVATE_KEY));
        return this.lib.C_SignAsync(session, createHash('sha256').update(input.data).digest(), Buffer.alloc(512));
      case 'hmac':
        this.lib.C_SignInit(session, { mechanism: pkcs11js.CKM_SHA256_HMAC }, this.key(input.label, pkcs11js.CKO_SECRET_KEY));
        return this.lib.C_SignAsync(session, input.data, Buffer.alloc(64));
    }
  }

  close(): void {
    this.lib.C_Finalize();
  }
}

const PSS_SHA256: pkcs11js.RsaPSS = { type: pkcs11js.CK_PARAMS_RSA_PSS, hashAlg: pkcs11js.CKM_SHA256, mgf: pkcs11js.CKG_MGF1_SHA256, saltLen: 32 };

function gcm(iv: Buffer): pkcs11js.Mechanism {
  return { mechanism: pkcs11js.CKM_AES_GCM, parameter: { type: pkcs11js.CK_PARAMS_GCM, iv, ivBits: 96, tagBits: 128 } as pkcs11js.GcmParams };
}

// SoftHSM2 tokens for one test suite, in the project's SoftHSM2 (SOFTHSM2_CONF from
// tools/infra/up.sh). Each suite creates its own tokens, labelled with a random suite id,
// and deletes them afterwards, so suites never see each other's tokens (STYLE 15). (Jest
// cannot point the native library at another config: the C environment is read at
// C_Initialize and a test file's process.env is only a copy.)
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pkcs11js from 'pkcs11js';

export const SOFTHSM_MODULE = process.env['PKCS11_MODULE'] ?? '/usr/lib/softhsm/libsofthsm2.so';

export interface SuiteTokens {
  /** A temporary folder of the suite (module copies go there). */
  readonly dir: string;
  /** Creates a token labelled `<suite id>/<name>`; returns its label and (random) user PIN. */
  initToken(name: string): { label: string; pin: string };
  /** Deletes the suite's tokens and folder. */
  remove(): void;
}

export function suiteTokens(suite: string): SuiteTokens {
  if (!process.env['SOFTHSM2_CONF']) throw new Error('SOFTHSM2_CONF is not set: run integration tests with "npm run test:integration"');
  const id = `${suite}-${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), `softhsm-${id}-`));
  const labels: string[] = [];
  const util = (...args: string[]) => execFileSync('softhsm2-util', args, { stdio: 'ignore' });
  return {
    dir,
    initToken(name) {
      const label = `${id}/${name}`.slice(0, 32);
      const pin = randomBytes(8).toString('hex');
      util('--init-token', '--free', '--label', label, '--so-pin', randomBytes(8).toString('hex'), '--pin', pin);
      labels.push(label);
      return { label, pin };
    },
    remove() {
      for (const label of labels) util('--delete-token', '--token', label);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The slot holding the token with `label` (labels are space-padded to 32 bytes in PKCS#11). */
export function slotOf(module: pkcs11js.PKCS11, label: string): Buffer {
  const slot = module.C_GetSlotList(true).find((s) => module.C_GetTokenInfo(s).label.trim() === label);
  if (!slot) throw new Error(`no token labelled ${label}`);
  return slot;
}

export function findByLabel(module: pkcs11js.PKCS11, session: Buffer, label: string): Buffer[] {
  module.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: label }]);
  try {
    return module.C_FindObjects(session, 10);
  } finally {
    module.C_FindObjectsFinal(session);
  }
}

/** AES-256-GCM encrypt with a caller-supplied IV (SoftHSM2 takes the caller's IV), random unless given. */
export function aesGcmEncrypt(module: pkcs11js.PKCS11, session: Buffer, key: Buffer, plaintext: Buffer, iv = randomBytes(12)): Buffer {
  module.C_EncryptInit(session, { mechanism: pkcs11js.CKM_AES_GCM, parameter: { type: pkcs11js.CK_PARAMS_GCM, iv, ivBits: 96, tagBits: 128 } as pkcs11js.GcmParams }, key);
  return module.C_Encrypt(session, plaintext, Buffer.alloc(plaintext.length + 16));
}

const EC_PARAMS = { 'P-256': Buffer.from('06082a8648ce3d030107', 'hex'), 'P-384': Buffer.from('06052b81040022', 'hex') };

/** Creates token keys for tests, as the admin plane would: AES-256, HMAC secret, EC and RSA pairs (private halves non-extractable). */
export const createTestKey = {
  aes(module: pkcs11js.PKCS11, session: Buffer, label: string): void {
    module.C_GenerateKey(session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_ENCRYPT, value: true },
      { type: pkcs11js.CKA_DECRYPT, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    ]);
  },
  hmac(module: pkcs11js.PKCS11, session: Buffer, label: string): void {
    module.C_GenerateKey(session, { mechanism: pkcs11js.CKM_GENERIC_SECRET_KEY_GEN }, [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
      { type: pkcs11js.CKA_SIGN, value: true },
      { type: pkcs11js.CKA_VERIFY, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
    ]);
  },
  ec(module: pkcs11js.PKCS11, session: Buffer, label: string, curve: 'P-256' | 'P-384' = 'P-256'): void {
    module.C_GenerateKeyPair(
      session,
      { mechanism: pkcs11js.CKM_EC_KEY_PAIR_GEN },
      [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_EC_PARAMS, value: EC_PARAMS[curve] },
        { type: pkcs11js.CKA_VERIFY, value: true },
      ],
      [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_SIGN, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      ],
    );
  },
  rsa(module: pkcs11js.PKCS11, session: Buffer, label: string, bits = 2048): void {
    module.C_GenerateKeyPair(
      session,
      { mechanism: pkcs11js.CKM_RSA_PKCS_KEY_PAIR_GEN },
      [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_MODULUS_BITS, value: bits },
        { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
        { type: pkcs11js.CKA_VERIFY, value: true },
      ],
      [
        { type: pkcs11js.CKA_TOKEN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_SIGN, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      ],
    );
  },
};

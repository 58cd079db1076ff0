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

/** AES-256-GCM encrypt with a caller-supplied IV (SoftHSM2 takes the caller's IV). */
export function aesGcmEncrypt(module: pkcs11js.PKCS11, session: Buffer, key: Buffer, plaintext: Buffer): Buffer {
  const iv = randomBytes(12);
  module.C_EncryptInit(session, { mechanism: pkcs11js.CKM_AES_GCM, parameter: { type: pkcs11js.CK_PARAMS_GCM, iv, ivBits: 96, tagBits: 128 } as pkcs11js.GcmParams }, key);
  return module.C_Encrypt(session, plaintext, Buffer.alloc(plaintext.length + 16));
}

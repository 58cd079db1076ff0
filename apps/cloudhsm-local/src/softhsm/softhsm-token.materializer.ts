import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as pkcs11js from 'pkcs11js';
import { loadIsolatedModule } from '@keyfleet/hsm';
import type { HsmChange, HsmChangeListener } from '@keyfleet/local-aws';
import { SoftHsmTokenDirectory } from './softhsm-token.directory';

interface TokenCredentials {
  soPin: string;
  userPin: string;
  /** Non-destroyable copies (sharees') by key reference: the object file to remove to withdraw each. */
  pinned?: Record<string, string>;
}

type KeyCopy = Extract<HsmChange, { kind: 'key-available' }>['key'];

const RW_SESSION = pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION;

/** DER-encoded named-curve OIDs (CKA_EC_PARAMS) by JWK curve name. */
const EC_PARAMS: Record<string, Buffer> = {
  'P-256': Buffer.from('06082a8648ce3d030107', 'hex'),
  'P-384': Buffer.from('06052b81040022', 'hex'),
  'P-521': Buffer.from('06052b81040023', 'hex'),
  secp256k1: Buffer.from('06052b8104000a', 'hex'),
};

/** CKA_EC_POINT is the point wrapped in a DER OCTET STRING. */
function derOctetString(value: Buffer): Buffer {
  const length = value.length < 0x80 ? Buffer.from([value.length]) : Buffer.from([0x81, value.length]);
  return Buffer.concat([Buffer.from([0x04]), length, value]);
}

/**
 * Mirrors each cluster's crypto users and keys into SoftHSM2 so PKCS#11 clients use them
 * for real: one token per (cluster, crypto user) labelled `<cluster-id>/<username>`, its
 * user PIN the user's password; the keys a user owns or that are shared with it are token
 * objects there (label and CKA_ID = the key reference). A sharee's copy is not extractable,
 * cannot wrap, is not modifiable and is not destroyable (CKA_DESTROYABLE false), as CloudHSM
 * restricts shared keys. Since not even its creator can C_DestroyObject such a copy, the
 * materialiser withdraws it (unshare, delete, re-offer) by removing its object file: see
 * {@link SoftHsmTokenDirectory}; it records which file each copy is when creating it.
 *
 * SoftHSM2 lets only a token's user create its private objects, so the materialiser keeps
 * each token's PINs (the user's password and a random SO PIN) in `tokens.json` in the data
 * directory (mode 600): test infrastructure, never production.
 */
export class SoftHsmTokenMaterializer implements HsmChangeListener {
  private readonly module: pkcs11js.PKCS11;
  private readonly file: string;
  private readonly tokens: Record<string, TokenCredentials>;
  private readonly store: SoftHsmTokenDirectory;

  /**
   * @param libraryPath libsofthsm2.so
   * @param dataDir where the token PINs and the module copy are kept
   * @param softHsmConf the softhsm2.conf the library uses (SOFTHSM2_CONF): it names the token directory
   */
  constructor(libraryPath: string, dataDir: string, softHsmConf: string) {
    this.store = SoftHsmTokenDirectory.fromConfig(softHsmConf);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.module = loadIsolatedModule(libraryPath, join(dataDir, 'pkcs11-modules')).module;
    this.module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    this.file = join(dataDir, 'tokens.json');
    try {
      this.tokens = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, TokenCredentials>;
    } catch {
      this.tokens = {};
    }
  }

  static label(clusterId: string, username: string): string {
    return `${clusterId}/${username}`;
  }

  apply(change: HsmChange): void {
    const label = SoftHsmTokenMaterializer.label(change.clusterId, change.username);
    switch (change.kind) {
      case 'user-created':
        this.createToken(label, change.password);
        return;
      case 'user-deleted':
        this.deleteToken(label);
        return;
      case 'password-changed':
        this.asSecurityOfficer(label, (session) => this.module.C_InitPIN(session, change.password));
        this.remember(label, { ...this.credentials(label), userPin: change.password });
        return;
      case 'key-available':
        this.asUser(label, (session, slot) => {
          this.withdraw(label, session, slot, change.key.ref);
          if (change.key.shared) this.createPinned(label, session, slot, change.key);
          else this.module.C_CreateObject(session, this.template(change.key));
        });
        return;
      case 'key-withdrawn':
        this.asUser(label, (session, slot) => this.withdraw(label, session, slot, change.ref));
        return;
    }
  }

  close(): void {
    this.module.C_Finalize();
  }

  private template(key: KeyCopy): pkcs11js.Template {
    const flag = (name: string) => key.attributes[name] === true;
    if (key.keyType === 'ec-private' || key.keyType === 'ec-public') return this.ecTemplate(key, flag);
    if (key.keyType === 'rsa-public') return this.rsaPublicTemplate(key, flag);
    if (key.keyType === 'rsa-private') return this.rsaPrivateTemplate(key, flag);
    return [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: key.keyType === 'aes' ? pkcs11js.CKK_AES : key.keyType === 'des3' ? pkcs11js.CKK_DES3 : pkcs11js.CKK_GENERIC_SECRET },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_LABEL, value: key.label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(key.ref.slice(2), 'hex') },
      { type: pkcs11js.CKA_VALUE, value: key.material },
      { type: pkcs11js.CKA_ENCRYPT, value: flag('encrypt') },
      { type: pkcs11js.CKA_DECRYPT, value: flag('decrypt') },
      { type: pkcs11js.CKA_SIGN, value: flag('sign') },
      { type: pkcs11js.CKA_VERIFY, value: flag('verify') },
      { type: pkcs11js.CKA_DERIVE, value: flag('derive') && !key.shared },
      { type: pkcs11js.CKA_WRAP, value: flag('wrap') && !key.shared },
      { type: pkcs11js.CKA_UNWRAP, value: flag('unwrap') && !key.shared },
      { type: pkcs11js.CKA_EXTRACTABLE, value: flag('extractable') && !key.shared },
      { type: pkcs11js.CKA_MODIFIABLE, value: flag('modifiable') && !key.shared },
      { type: pkcs11js.CKA_DESTROYABLE, value: !key.shared },
    ];
  }

  /** An imported RSA public key (e.g. a wrapping key): modulus and exponent, visible to its token's user. */
  private rsaPublicTemplate(key: KeyCopy, flag: (name: string) => boolean): pkcs11js.Template {
    const jwk = createPublicKey({ key: key.material, format: 'der', type: 'spki' }).export({ format: 'jwk' });
    return [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: false },
      { type: pkcs11js.CKA_LABEL, value: key.label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(key.ref.slice(2), 'hex') },
      { type: pkcs11js.CKA_MODULUS, value: Buffer.from(jwk.n ?? '', 'base64url') },
      { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from(jwk.e ?? '', 'base64url') },
      { type: pkcs11js.CKA_WRAP, value: flag('wrap') },
      { type: pkcs11js.CKA_ENCRYPT, value: flag('encrypt') },
      { type: pkcs11js.CKA_VERIFY, value: flag('verify') },
      { type: pkcs11js.CKA_MODIFIABLE, value: flag('modifiable') && !key.shared },
      { type: pkcs11js.CKA_DESTROYABLE, value: !key.shared },
    ];
  }

  /** An RSA private key with its CRT components (what SoftHSM2 needs to sign and decrypt fast). */
  private rsaPrivateTemplate(key: KeyCopy, flag: (name: string) => boolean): pkcs11js.Template {
    const jwk = createPrivateKey({ key: key.material, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
    const part = (value: string | undefined) => Buffer.from(value ?? '', 'base64url');
    return [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_LABEL, value: key.label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(key.ref.slice(2), 'hex') },
      { type: pkcs11js.CKA_MODULUS, value: part(jwk.n) },
      { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: part(jwk.e) },
      { type: pkcs11js.CKA_PRIVATE_EXPONENT, value: part(jwk.d) },
      { type: pkcs11js.CKA_PRIME_1, value: part(jwk.p) },
      { type: pkcs11js.CKA_PRIME_2, value: part(jwk.q) },
      { type: pkcs11js.CKA_EXPONENT_1, value: part(jwk.dp) },
      { type: pkcs11js.CKA_EXPONENT_2, value: part(jwk.dq) },
      { type: pkcs11js.CKA_COEFFICIENT, value: part(jwk.qi) },
      { type: pkcs11js.CKA_SIGN, value: flag('sign') },
      { type: pkcs11js.CKA_DECRYPT, value: flag('decrypt') },
      { type: pkcs11js.CKA_UNWRAP, value: flag('unwrap') && !key.shared },
      { type: pkcs11js.CKA_EXTRACTABLE, value: flag('extractable') && !key.shared },
      { type: pkcs11js.CKA_MODIFIABLE, value: flag('modifiable') && !key.shared },
      { type: pkcs11js.CKA_DESTROYABLE, value: !key.shared },
    ];
  }

  /** EC keys as PKCS#11 objects: named-curve parameters, and the private value or the public point. */
  private ecTemplate(key: KeyCopy, flag: (name: string) => boolean): pkcs11js.Template {
    const isPrivate = key.keyType === 'ec-private';
    const jwk = (isPrivate ? createPrivateKey({ key: key.material, format: 'der', type: 'pkcs8' }) : createPublicKey({ key: key.material, format: 'der', type: 'spki' })).export({
      format: 'jwk',
    });
    const params = EC_PARAMS[jwk.crv ?? ''];
    if (!params) throw new Error(`curve ${jwk.crv ?? '?'} cannot be materialised`);
    const common: pkcs11js.Template = [
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_EC },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_LABEL, value: key.label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(key.ref.slice(2), 'hex') },
      { type: pkcs11js.CKA_EC_PARAMS, value: params },
      { type: pkcs11js.CKA_MODIFIABLE, value: flag('modifiable') && !key.shared },
      { type: pkcs11js.CKA_DESTROYABLE, value: !key.shared },
    ];
    if (!isPrivate) {
      const point = Buffer.concat([Buffer.from([0x04]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
      return [
        ...common,
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
        { type: pkcs11js.CKA_PRIVATE, value: false },
        { type: pkcs11js.CKA_EC_POINT, value: derOctetString(point) },
        { type: pkcs11js.CKA_VERIFY, value: flag('verify') },
        { type: pkcs11js.CKA_DERIVE, value: false },
      ];
    }
    return [
      ...common,
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_VALUE, value: Buffer.from(jwk.d ?? '', 'base64url') },
      { type: pkcs11js.CKA_SIGN, value: flag('sign') },
      { type: pkcs11js.CKA_DERIVE, value: flag('derive') && !key.shared },
      { type: pkcs11js.CKA_EXTRACTABLE, value: flag('extractable') && !key.shared },
    ];
  }

  /**
   * Creates a sharee's non-destroyable copy and records its object file (the one file that
   * appears in the token's directory meanwhile), so that {@link withdraw} can remove it.
   */
  private createPinned(label: string, session: Buffer, slot: Buffer, key: KeyCopy): void {
    const tokenDir = this.tokenDir(label, slot);
    const before = this.store.objectFiles(tokenDir);
    this.module.C_CreateObject(session, this.template(key));
    const file = this.store.newObjectFile(tokenDir, before);
    const credentials = this.credentials(label);
    this.remember(label, { ...credentials, pinned: { ...credentials.pinned, [key.ref]: file } });
  }

  /**
   * Removes a key's objects from a token: destroyable ones by C_DestroyObject, a sharee's
   * non-destroyable copy by removing its recorded object file; then checks that none is left.
   */
  private withdraw(label: string, session: Buffer, slot: Buffer, ref: string): void {
    let pinned = false;
    for (const handle of this.findByRef(session, ref)) {
      const [destroyable] = this.module.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_DESTROYABLE }]);
      if (destroyable?.value?.[0] === 0) pinned = true;
      else this.module.C_DestroyObject(session, handle);
    }
    const { pinned: files, ...credentials } = this.credentials(label);
    const file = files?.[ref];
    if (pinned && !file) throw new Error(`token ${label} holds a non-destroyable copy of ${ref} whose object file is unknown`);
    if (file) {
      this.store.removeObject(this.tokenDir(label, slot), file);
      const rest = Object.fromEntries(Object.entries(files ?? {}).filter(([other]) => other !== ref));
      this.remember(label, Object.keys(rest).length > 0 ? { ...credentials, pinned: rest } : credentials);
    }
    if (this.findByRef(session, ref).length > 0) throw new Error(`key ${ref} is still in token ${label} after its withdrawal`);
  }

  private findByRef(session: Buffer, ref: string): Buffer[] {
    this.module.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_ID, value: Buffer.from(ref.slice(2), 'hex') }]);
    try {
      return this.module.C_FindObjects(session, 10);
    } finally {
      this.module.C_FindObjectsFinal(session);
    }
  }

  private tokenDir(label: string, slot: Buffer): string {
    return this.store.tokenDir(this.module.C_GetTokenInfo(slot).serialNumber, label);
  }

  private createToken(label: string, userPin: string): void {
    if (this.findSlot(label)) this.deleteToken(label);
    const soPin = randomBytes(12).toString('hex');
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', userPin], { stdio: 'ignore' });
    this.remember(label, { soPin, userPin });
    // The slot list of an initialised library does not show tokens created since: reload it.
    this.module.C_Finalize();
    this.module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  }

  private deleteToken(label: string): void {
    if (this.findSlot(label)) execFileSync('softhsm2-util', ['--delete-token', '--token', label], { stdio: 'ignore' });
    delete this.tokens[label];
    this.persist();
  }

  private asUser(label: string, work: (session: Buffer, slot: Buffer) => void): void {
    this.withSession(label, pkcs11js.CKU_USER, this.credentials(label).userPin, work);
  }

  private asSecurityOfficer(label: string, work: (session: Buffer, slot: Buffer) => void): void {
    this.withSession(label, pkcs11js.CKU_SO, this.credentials(label).soPin, work);
  }

  private withSession(label: string, userType: number, pin: string, work: (session: Buffer, slot: Buffer) => void): void {
    const slot = this.findSlot(label);
    if (!slot) throw new Error(`no SoftHSM2 token for ${label}`);
    const session = this.module.C_OpenSession(slot, RW_SESSION);
    try {
      this.module.C_Login(session, userType, pin);
      try {
        work(session, slot);
      } finally {
        this.module.C_Logout(session);
      }
    } finally {
      this.module.C_CloseSession(session);
    }
  }

  /**
   * The slot of the token labelled `label`. A token another process deleted (tests remove
   * their own tokens with softhsm2-util) leaves a slot this library instance can no longer
   * read: C_GetTokenInfo fails with CKR_GENERAL_ERROR (measured, SoftHSM2 2.6). Such a slot
   * is not the one looked for, so it is skipped rather than failing every later command.
   */
  private findSlot(label: string): Buffer | undefined {
    return this.module.C_GetSlotList(true).find((slot) => {
      try {
        return this.module.C_GetTokenInfo(slot).label.trim() === label;
      } catch {
        return false;
      }
    });
  }

  private credentials(label: string): TokenCredentials {
    const credentials = this.tokens[label];
    if (!credentials) throw new Error(`cloudhsm-local has no credentials for token ${label}`);
    return credentials;
  }

  private remember(label: string, credentials: TokenCredentials): void {
    this.tokens[label] = credentials;
    this.persist();
  }

  private persist(): void {
    writeFileSync(this.file, JSON.stringify(this.tokens), { mode: 0o600 });
    chmodSync(this.file, 0o600);
  }
}

import { createCipheriv, createDecipheriv, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/** Roles `cloudhsm-cli user list` shows. */
export type HsmRole = 'admin' | 'crypto-user' | 'unactivated-admin';

export interface HsmUserRecord {
  username: string;
  role: HsmRole;
  /** scrypt(password, salt), base64: the emulator never keeps a password in the clear. */
  passwordHash: string;
  salt: string;
  /**
   * A crypto user's password sealed under the cluster's escrow key, so a cluster restored
   * from a backup can give the user's new token the same PIN. Emulator only: an HSM never
   * reveals a password, it just restores the user.
   */
  sealedPassword?: string;
}

/**
 * What lives inside a cluster's HSMs: users now, keys next. A backup carries a copy; a
 * cluster created from a backup starts from that copy. `lineage` names the first backup
 * of the family, so clones of one another can be recognised (key replicate needs it).
 */
export interface ClusterHsmData {
  users: HsmUserRecord[];
  lineage: string;
  keys?: HsmKeyRecord[];
  /** Next key reference number (references are never reused within a cluster). */
  nextKeyRef?: number;
  /**
   * The key that encrypts this cluster's key material at rest (base64), as a backup's
   * contents are encrypted; local state only.
   */
  escrowKey?: string;
}

/** Attribute values as `cloudhsm-cli` prints them. */
export type KeyAttributes = Record<string, string | number | boolean>;

export interface HsmKeyRecord {
  /** `0x` + 16 hex digits, as cloudhsm-cli shows key references. */
  ref: string;
  owner: string;
  sharedWith: string[];
  attributes: KeyAttributes;
  /** The key bytes, AES-256-GCM under the cluster's escrow key: iv.tag.ciphertext, base64 parts. */
  sealed: string;
}

/** Username rules of CloudHSM: 1-31 letters, digits or underscores, case-insensitive (shown lower case). */
export const USERNAME = /^[A-Za-z0-9_]{1,31}$/;

export function hashPassword(password: string): { passwordHash: string; salt: string } {
  const salt = randomBytes(16);
  return { passwordHash: scryptSync(password, salt, 32).toString('base64'), salt: salt.toString('base64') };
}

export function passwordMatches(user: HsmUserRecord, password: string): boolean {
  const expected = Buffer.from(user.passwordHash, 'base64');
  const actual = scryptSync(password, Buffer.from(user.salt, 'base64'), 32);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/**
 * A fresh cluster's HSM content: the unactivated admin only. Its password is random and
 * never told to anyone: `cluster activate --password` replaces it.
 */
export function newClusterHsmData(lineage: string): ClusterHsmData {
  return { users: [{ username: 'admin', role: 'unactivated-admin', ...hashPassword(randomBytes(24).toString('base64')) }], lineage };
}

/** Seals key material under the cluster's escrow key (created on first use). */
export function sealMaterial(data: ClusterHsmData, material: Buffer): string {
  data.escrowKey ??= randomBytes(32).toString('base64');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(data.escrowKey, 'base64'), iv);
  const body = Buffer.concat([cipher.update(material), cipher.final()]);
  return [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64')).join('.');
}

export function unsealMaterial(data: ClusterHsmData, sealed: string): Buffer {
  const [iv = '', tag = '', body = ''] = sealed.split('.');
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(data.escrowKey ?? '', 'base64'), Buffer.from(iv, 'base64'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]);
}

export function copyHsmData(data: ClusterHsmData): ClusterHsmData {
  return JSON.parse(JSON.stringify(data)) as ClusterHsmData;
}

import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/** Roles `cloudhsm-cli user list` shows. */
export type HsmRole = 'admin' | 'crypto-user' | 'unactivated-admin';

export interface HsmUserRecord {
  username: string;
  role: HsmRole;
  /** scrypt(password, salt), base64: the emulator never keeps a password in the clear. */
  passwordHash: string;
  salt: string;
}

/**
 * What lives inside a cluster's HSMs: users now, keys next. A backup carries a copy; a
 * cluster created from a backup starts from that copy. `lineage` names the first backup
 * of the family, so clones of one another can be recognised (key replicate needs it).
 */
export interface ClusterHsmData {
  users: HsmUserRecord[];
  lineage: string;
}

/** Username rules of CloudHSM: 1-31 letters, digits or underscores, case-insensitive (shown lower case). */
export const USERNAME = /^[A-Za-z0-9_]{1,31}$/;
/** The initial admin's password before activation (CloudHSM's documented default). */
export const UNACTIVATED_ADMIN_PASSWORD = 'password';

export function hashPassword(password: string): { passwordHash: string; salt: string } {
  const salt = randomBytes(16);
  return { passwordHash: scryptSync(password, salt, 32).toString('base64'), salt: salt.toString('base64') };
}

export function passwordMatches(user: HsmUserRecord, password: string): boolean {
  const expected = Buffer.from(user.passwordHash, 'base64');
  const actual = scryptSync(password, Buffer.from(user.salt, 'base64'), 32);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** A fresh cluster's HSM content: the unactivated admin only. */
export function newClusterHsmData(lineage: string): ClusterHsmData {
  return { users: [{ username: 'admin', role: 'unactivated-admin', ...hashPassword(UNACTIVATED_ADMIN_PASSWORD) }], lineage };
}

export function copyHsmData(data: ClusterHsmData): ClusterHsmData {
  return JSON.parse(JSON.stringify(data)) as ClusterHsmData;
}

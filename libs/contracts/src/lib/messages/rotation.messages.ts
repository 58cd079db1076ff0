import { z } from 'zod';

const clusterId = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 letters, digits, _ . -');

/**
 * Event: rotation-service moved a cluster's traffic to other crypto-user credentials (the
 * standby user of a dual-user rotation, or the same user after a password change). The
 * crypto gateway switches that cluster's pool: new requests use the new login at once, the
 * old pool drains. Names the secret, never its value. Subject: the cluster id.
 */
export const cryptoUserSwitchedV1Schema = z.object({
  clusterId,
  /** The secret holding {"username","password"} of the crypto user to use from now on. */
  secretId: z.string().min(1).max(512),
  /** The PKCS#11 token of that user (local SoftHSM2 mode: "<cluster>/<user>"); absent = unchanged. */
  tokenLabel: z.string().min(1).max(32).optional(),
});
export type CryptoUserSwitchedV1 = z.infer<typeof cryptoUserSwitchedV1Schema>;

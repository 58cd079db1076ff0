import { z } from 'zod';

/**
 * A key alias: the stable name applications use. Lower case so that aliases compare
 * the way CloudHSM labels are read by operators; 1-64 characters.
 */
export const keyAliasSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'must be 1-64 characters: a-z, 0-9, . _ -, starting with a letter or digit');

/** Key types keyfleet manages (what CloudHSM's cloudhsm-cli can generate). */
export const keyTypeSchema = z.enum([
  'aes-128',
  'aes-192',
  'aes-256',
  'rsa-2048',
  'rsa-3072',
  'rsa-4096',
  'ec-p256',
  'ec-p384',
  'hmac-sha256',
  'hmac-sha384',
  'hmac-sha512',
]);
export type KeyType = z.infer<typeof keyTypeSchema>;

export const keyUsageSchema = z.enum(['encrypt-decrypt', 'sign-verify', 'mac', 'wrap-unwrap']);
export type KeyUsage = z.infer<typeof keyUsageSchema>;

/** Lifecycle states of a key version (ARCHITECTURE.md, key-service). */
export const keyStateSchema = z.enum(['pending', 'active', 'legacy', 'disabled', 'scheduled-for-destruction', 'destroyed']);
export type KeyState = z.infer<typeof keyStateSchema>;

/** Command: an operator asks key-service to create a key. Subject: the alias. */
export const keyCreateRequestedV1Schema = z.object({
  alias: keyAliasSchema,
  keyType: keyTypeSchema,
  usage: z.array(keyUsageSchema).min(1, 'must name at least one usage').max(4),
  description: z.string().max(256, 'must be at most 256 characters').optional(),
});
export type KeyCreateRequestedV1 = z.infer<typeof keyCreateRequestedV1Schema>;

/** Event: key-service recorded a new key (version 1) in its inventory. Subject: the alias. */
export const keyRegisteredV1Schema = z.object({
  alias: keyAliasSchema,
  version: z.number().int().min(1),
  keyType: keyTypeSchema,
  usage: z.array(keyUsageSchema).min(1).max(4),
  state: keyStateSchema,
  /** The HSM label derived from alias and version (`<alias>/v<version>`). */
  label: z.string().min(1).max(127),
});
export type KeyRegisteredV1 = z.infer<typeof keyRegisteredV1Schema>;

/** Event: key-service refused a command; `correlationId` is the command's id. Subject: the alias. */
export const keyCommandRejectedV1Schema = z.object({
  commandType: z.string().min(1).max(128),
  reason: z.string().min(1).max(512),
});
export type KeyCommandRejectedV1 = z.infer<typeof keyCommandRejectedV1Schema>;

/**
 * Event: key-service changed which version of a key is current (rotation) and/or whether
 * the key may be used. The crypto gateway applies it to its key directory and drops the
 * key's cached handles. Subject: the alias.
 */
export const keyStateChangedV1Schema = z
  .object({
    alias: z.string().regex(/^[A-Za-z0-9/_.-]{1,128}$/, 'must be 1-128 letters, digits, / _ . -'),
    currentVersion: z.number().int().min(1).optional(),
    enabled: z.boolean().optional(),
  })
  .refine((e) => e.currentVersion !== undefined || e.enabled !== undefined, 'must change currentVersion or enabled');
export type KeyStateChangedV1 = z.infer<typeof keyStateChangedV1Schema>;

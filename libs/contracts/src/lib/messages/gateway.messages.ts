import { z } from 'zod';

/** The crypto operations of `keyfleet.crypto.v1.Crypto` and `keyfleet.hsm.v1.HsmAdmin`, as audited. */
export const cryptoOperationSchema = z.enum([
  'encrypt',
  'decrypt',
  'generate-data-key',
  'generate-data-key-without-plaintext',
  'sign',
  'verify',
  'generate-mac',
  'verify-mac',
  'get-public-key',
  'generate-random',
  'admin',
]);
export type CryptoOperation = z.infer<typeof cryptoOperationSchema>;

/** How an operation ended: `ok`, or the gRPC status name it failed with (never the reason text). */
export const operationOutcomeSchema = z.enum([
  'ok',
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'FAILED_PRECONDITION',
  'RESOURCE_EXHAUSTED',
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'INTERNAL',
]);
export type OperationOutcome = z.infer<typeof operationOutcomeSchema>;

/**
 * Event: the crypto gateway ran (or refused) one operation. Subject: the key alias (or
 * `random`). One record per operation, never any data: no plaintext, ciphertext,
 * signature, MAC or key material; `keyVersion` and `clusterId` are absent when the
 * request failed before a key or cluster was chosen.
 */
export const cryptoOperationRecordedV1Schema = z.object({
  operation: cryptoOperationSchema,
  /** The caller's identity from its client certificate (policy subject). */
  caller: z.string().min(1).max(256),
  keyAlias: z.string().max(256).optional(),
  keyVersion: z.number().int().min(1).optional(),
  clusterId: z.string().max(64).optional(),
  outcome: operationOutcomeSchema,
  /** Whole-request latency in microseconds, as the gateway measured it. */
  latencyMicros: z.number().int().min(0),
  /** How many HSM attempts it took (retries included); 0 when refused before the HSM. */
  attempts: z.number().int().min(0),
  /** Items in a batch or stream request, 1 otherwise. */
  items: z.number().int().min(1).default(1),
});
export type CryptoOperationRecordedV1 = z.infer<typeof cryptoOperationRecordedV1Schema>;

/** Event: a cluster's circuit breaker in the gateway changed state. Subject: the cluster id. */
export const gatewayBreakerStateChangedV1Schema = z.object({
  clusterId: z.string().min(1).max(64),
  from: z.enum(['closed', 'open', 'half-open']),
  to: z.enum(['closed', 'open', 'half-open']),
  /** Error percentage over the rolling window when the change happened. */
  errorPercentage: z.number().min(0).max(100),
});
export type GatewayBreakerStateChangedV1 = z.infer<typeof gatewayBreakerStateChangedV1Schema>;

/** The HsmAdmin actions, as audited (one per RPC). */
export const gatewayAdminActionSchema = z.enum([
  'generate-key',
  'destroy-key',
  'describe-key',
  'list-keys',
  'share-key',
  'unshare-key',
  'wrap-key',
  'unwrap-key',
  'import-public-key',
  'replicate-key',
  'set-key-state',
  'create-crypto-user',
  'delete-crypto-user',
  'list-crypto-users',
  'change-password',
  'set-routing-weights',
  'switch-crypto-user',
  'drain-cluster',
  'resume-cluster',
  'cluster-status',
]);
export type GatewayAdminAction = z.infer<typeof gatewayAdminActionSchema>;

/**
 * Event: the gateway ran (or refused) one HsmAdmin request. Subject: the key alias, else the
 * cluster id, else `gateway`. Names what was acted on, never a password, PIN, wrapped key or
 * other material.
 */
export const gatewayAdminActionRecordedV1Schema = z.object({
  action: gatewayAdminActionSchema,
  caller: z.string().min(1).max(256),
  clusterId: z.string().max(64).optional(),
  keyAlias: z.string().max(256).optional(),
  keyVersion: z.number().int().min(1).optional(),
  /** A crypto user acted on (created, deleted, shared with, switched to). */
  username: z.string().max(64).optional(),
  outcome: operationOutcomeSchema,
  latencyMicros: z.number().int().min(0),
});
export type GatewayAdminActionRecordedV1 = z.infer<typeof gatewayAdminActionRecordedV1Schema>;

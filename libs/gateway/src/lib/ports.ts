import type { KeyObject } from 'node:crypto';
import type { CryptoOperationRecordedV1 } from '@keyfleet/contracts';
import type { GatewayExceptionCode } from './gateway.exception';

export type HashName = 'sha256' | 'sha384' | 'sha512';
export type SchemeName = 'ecdsa' | 'rsa-pkcs1' | 'rsa-pss';

/** What one cluster's HSM session pool can do (implemented by `@keyfleet/hsm`'s `HsmCrypto`). */
export interface ClusterCrypto {
  encrypt(label: string, plaintext: Buffer, aad: Buffer, deadline?: number): Promise<{ readonly iv: Buffer; readonly ciphertext: Buffer }>;
  decrypt(label: string, sealed: { readonly iv: Buffer; readonly ciphertext: Buffer }, aad: Buffer, deadline?: number): Promise<Buffer>;
  sign(label: string, scheme: SchemeName, hash: HashName, digest: Buffer, deadline?: number): Promise<Buffer>;
  verify(label: string, scheme: SchemeName, hash: HashName, digest: Buffer, signature: Buffer, deadline?: number): Promise<boolean>;
  mac(label: string, hash: HashName, data: Buffer, deadline?: number): Promise<Buffer>;
  verifyMac(label: string, hash: HashName, data: Buffer, mac: Buffer, deadline?: number): Promise<boolean>;
  random(length: number, deadline?: number): Promise<Buffer>;
  publicKey(label: string, deadline?: number): Promise<KeyObject>;
  /**
   * Many items in one session, when the pool can run them so (implemented by `HsmCrypto`):
   * the batch RPCs' fast path. Undefined when items must each take a session of their own.
   */
  readonly inOneSession?: SessionBatch | undefined;
}

/** Encrypt, decrypt or sign many items in one session: per item its outcome or its error, in the items' order. */
export interface SessionBatch {
  encrypt(items: readonly { readonly label: string; readonly plaintext: Buffer; readonly aad: Buffer }[], deadline?: number): Promise<({ readonly iv: Buffer; readonly ciphertext: Buffer } | Error)[]>;
  decrypt(items: readonly { readonly label: string; readonly sealed: { readonly iv: Buffer; readonly ciphertext: Buffer }; readonly aad: Buffer }[], deadline?: number): Promise<(Buffer | Error)[]>;
  sign(items: readonly { readonly label: string; readonly scheme: SchemeName; readonly hash: HashName; readonly digest: Buffer }[], deadline?: number): Promise<(Buffer | Error)[]>;
}

/** A cluster as the router sees it: its crypto (swappable when the pool's crypto user changes) behind its breaker and bulkhead. */
export interface ClusterHandle {
  readonly id: string;
  readonly crypto: ClusterCrypto;
  /** True while the cluster's breaker is open: the router skips it. */
  readonly unavailable: boolean;
  /** Runs work through the cluster's bulkhead and breaker; a call still waiting for a slot at `deadline` (epoch ms) fails. */
  guard<T>(work: () => Promise<T>, deadline?: number): Promise<T>;
}

/** The clusters this gateway has pools for. */
export interface ClusterSet {
  get(id: string): ClusterHandle | undefined;
  all(): readonly ClusterHandle[];
}

/** Retries with backoff under a budget (`@keyfleet/resilience`), never past the deadline. */
export interface RetryRunner {
  /** `firstFailure`: a first attempt already failed elsewhere with this error; go on with the retries (backoff and budget first). */
  run<T>(work: (attempt: number) => Promise<T>, isRetryable: (err: unknown) => boolean, deadline?: number, firstFailure?: { readonly error: unknown }): Promise<T>;
}

/** How the app classifies a failure from the HSM or resilience layers (the one place that knows both). */
export interface FailureClassifier {
  classify(err: unknown): { readonly retryable: boolean; readonly code: GatewayExceptionCode; readonly reason: string };
}

/** One audit record per operation (`keyfleet.crypto.ops.v1`). */
export interface OperationAudit {
  /** False when records can be neither sent nor spooled: the gateway then refuses operations (fail closed). */
  readonly accepting: boolean;
  /**
   * Hands one record to the trail. @returns false when the trail refused it (fail closed: the
   * operation it describes must not be answered); any other failure is thrown.
   */
  record(record: CryptoOperationRecordedV1): boolean;
}

/** Who is asking, and by when the answer is needed. */
export interface RequestContext {
  /** The caller's identity from its client certificate. */
  readonly caller: string;
  /** Epoch ms; absent when the caller set no deadline. */
  readonly deadline?: number;
}

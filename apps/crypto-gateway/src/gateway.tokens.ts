import type { PeerCertificate } from 'node:tls';
import type { CryptoOperation } from '@keyfleet/contracts';

/** Injection token of the `CallerAuthorizer` (crypto API). */
export const CALLER_AUTHORIZER = Symbol('CallerAuthorizer');
/** Injection token of the `AdminAuthorizer` (HsmAdmin). */
export const ADMIN_AUTHORIZER = Symbol('AdminAuthorizer');
/** Injection token of the `OperationAudit`. */
export const OPERATION_AUDIT = Symbol('OperationAudit');
/** Injection token of the `KeyDirectory`. */
export const KEY_DIRECTORY = Symbol('KeyDirectory');
/** Injection token of a boolean: may tests inject faults (GATEWAY_FAULTS=on)? */
export const FAULTS_ENABLED = Symbol('FaultsEnabled');
/** Injection token of the `KeyAdministration` (HsmAdmin key management). */
export const KEY_ADMIN = Symbol('KeyAdministration');
/** Injection token of the `UserAdministration` (HsmAdmin crypto users). */
export const USER_ADMIN = Symbol('UserAdministration');
/** Injection token of the `AdminAudit`. */
export const ADMIN_AUDIT = Symbol('AdminAudit');
/** Injection token of the `ClusterFleet`. */
export const CLUSTER_FLEET = Symbol('ClusterFleet');
/** Injection token of the gateway's `ProcessRuntime` (allocator, node flags). */
export const PROCESS_RUNTIME = Symbol('ProcessRuntime');
/** Injection token of a number: the longest a crypto operation may take, in ms (GATEWAY_OPERATION_TIMEOUT_MS). */
export const OPERATION_TIMEOUT_MS = Symbol('OperationTimeoutMs');
/** Injection token of a `Pkcs11WorkerStatus`. */
export const PKCS11_WORKERS = Symbol('Pkcs11Workers');

/** What the PKCS#11 worker threads are doing; null when the operations run on the main thread. */
export interface Pkcs11WorkerStatus {
  read(): { calls: string; workers: number; outstanding: number; messages: number; jobs: number } | null;
}

/** Who is calling (from the client certificate) and what the policy lets it do. */
export interface CallerAuthorizer {
  /** The caller's identity; throws a PERMISSION_DENIED `GatewayException` when the certificate carries none. */
  identify(peer: PeerCertificate | undefined): string;
  /** undefined when allowed; otherwise the reason of the denial (names identity and operation only). */
  authorize(identity: string, operation: CryptoOperation, keyAlias: string | undefined): string | undefined;
}

/** HsmAdmin is for keyfleet services only. */
export interface AdminAuthorizer {
  identify(peer: PeerCertificate | undefined): string;
  /** undefined when the identity may administer; otherwise why not. */
  authorizeAdmin(identity: string): string | undefined;
}

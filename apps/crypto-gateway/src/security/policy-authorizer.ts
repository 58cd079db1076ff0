import type { PeerCertificate } from 'node:tls';
import type { CryptoOperation } from '@keyfleet/contracts';
import { GatewayException, GatewayExceptionCode } from '@keyfleet/gateway';
import type { AdminAuthorizer, CallerAuthorizer } from '../gateway.tokens';
import { extractCallerIdentity, parseCallerUri, type CallerIdentity } from './caller-identity';
import type { CallerPolicy } from './caller-policy';
import { SecurityException } from './security.exception';

/** How many client certificates' identities are kept (a handful of callers, each with a few certificates over time). */
const DEFAULT_CACHE_SIZE = 1024;

/**
 * The gRPC handlers' view of the caller policy: identity from the peer certificate, then a
 * yes or a reason. An identity failure becomes PERMISSION_DENIED here, so the transport
 * adapter maps it like any other gateway error.
 */
export class PolicyAuthorizer implements CallerAuthorizer, AdminAuthorizer {
  // grpc-js hands over a fresh copy of the peer certificate on every call; parsing its DER
  // each time would cost more than many crypto operations. Node computes fingerprint256
  // over the whole certificate, so it is a safe key.
  private readonly identities = new Map<string, CallerIdentity>();

  constructor(
    private readonly policy: CallerPolicy,
    private readonly cacheSize = DEFAULT_CACHE_SIZE,
  ) {}

  /** The caller's SPIFFE ID; throws a PERMISSION_DENIED `GatewayException` when the certificate carries none. */
  identify(peer: PeerCertificate | undefined): string {
    const fingerprint = peer?.fingerprint256;
    const known = fingerprint ? this.identities.get(fingerprint) : undefined;
    if (known) return known.uri;
    const identity = denyOnSecurityError(() => extractCallerIdentity(peer));
    if (fingerprint) this.remember(fingerprint, identity);
    return identity.uri;
  }

  /** undefined when allowed; otherwise the reason (identity, operation and alias only). */
  authorize(identity: string, operation: CryptoOperation, keyAlias: string | undefined): string | undefined {
    const decision = this.policy.authorize(denyOnSecurityError(() => parseCallerUri(identity)), operation, keyAlias);
    return decision.allowed ? undefined : decision.reason;
  }

  /** undefined when the identity may use HsmAdmin; otherwise why not. */
  authorizeAdmin(identity: string): string | undefined {
    const decision = this.policy.authorizeAdmin(denyOnSecurityError(() => parseCallerUri(identity)));
    return decision.allowed ? undefined : decision.reason;
  }

  private remember(fingerprint: string, identity: CallerIdentity): void {
    if (this.identities.size >= this.cacheSize) {
      // Maps iterate in insertion order: drop the oldest entry.
      const oldest = this.identities.keys().next();
      if (!oldest.done) this.identities.delete(oldest.value);
    }
    this.identities.set(fingerprint, identity);
  }
}

function denyOnSecurityError<T>(work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof SecurityException) throw new GatewayException(GatewayExceptionCode.PermissionDenied, err.message, { cause: err });
    throw err;
  }
}

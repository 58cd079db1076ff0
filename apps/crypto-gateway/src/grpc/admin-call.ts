import { RpcException } from '@nestjs/microservices';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { GatewayAdminAction } from '@keyfleet/contracts';
import { GatewayException, GatewayExceptionCode } from '@keyfleet/gateway';
import type { AdminAudit, AdminSubject } from '../admin/admin-audit';
import type { AdminAuthorizer } from '../gateway.tokens';
import { toGrpcError } from './grpc-status.mapper';

export type { AdminSubject } from '../admin/admin-audit';

export type AdminCall = ServerUnaryCall<unknown, unknown>;

/**
 * Runs one HsmAdmin request: the caller must be a keyfleet service, the audit trail must be
 * writable, the outcome is recorded (one `admin-action-recorded` per request), and a failure
 * becomes its gRPC status in the one mapper.
 */
export async function runAdminCall<T>(
  deps: { readonly authorizer: AdminAuthorizer; readonly audit: AdminAudit; readonly logger: Logger },
  call: AdminCall,
  action: GatewayAdminAction,
  subject: AdminSubject,
  run: () => T | Promise<T>,
): Promise<T> {
  let caller = 'unknown';
  try {
    return await deps.audit.track(
      action,
      () => caller,
      subject,
      () => {
        caller = deps.authorizer.identify(call.getAuthContext().sslPeerCertificate);
        const denial = deps.authorizer.authorizeAdmin(caller);
        if (denial !== undefined) throw new GatewayException(GatewayExceptionCode.PermissionDenied, denial);
        if (!deps.audit.accepting) throw new GatewayException(GatewayExceptionCode.Unavailable, 'the audit trail cannot be written; admin requests are refused until it can');
        deps.logger.info({ caller, action, ...subject }, 'admin request');
        return run();
      },
      { learn: subjectIn },
    );
  } catch (err) {
    if (err instanceof GatewayException) deps.logger.warn({ caller, action, ...subject, outcome: err.code, reason: err.message }, 'admin request failed');
    throw new RpcException(toGrpcError(err, deps.logger));
  }
}

/** What a reply says was acted on (the user a secret named, the version made), for the record. */
function subjectIn(result: unknown): AdminSubject {
  if (typeof result !== 'object' || result === null) return {};
  const r = result as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);
  const learned: { -readonly [K in keyof AdminSubject]: AdminSubject[K] } = {};
  const username = text(r['username']);
  const keyAlias = text(r['alias']);
  if (username) learned.username = username;
  if (keyAlias) learned.keyAlias = keyAlias;
  if (typeof r['version'] === 'number' && r['version'] > 0) learned.keyVersion = r['version'];
  return learned;
}

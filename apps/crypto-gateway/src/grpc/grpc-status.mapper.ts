import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { GatewayException, GatewayExceptionCode } from '@keyfleet/gateway';

/** A gRPC error as grpc-js sends it: the status code and its reason (the details). */
export interface GrpcError {
  readonly code: status;
  readonly message: string;
}

/**
 * The one place where gateway failures become gRPC statuses (STYLE 10). Anything that is not
 * a `GatewayException` is INTERNAL with an error id that is logged with the cause and returned,
 * so an operator can find it and nothing else leaks.
 */
export function toGrpcError(err: unknown, logger: Logger): GrpcError {
  if (!(err instanceof GatewayException)) {
    const errorId = randomUUID();
    logger.error({ err, errorId }, 'unexpected error in a gRPC call');
    return { code: status.INTERNAL, message: `internal error (error id ${errorId})` };
  }
  return { code: statusOf(err.code), message: err.message };
}

export function statusOf(code: GatewayExceptionCode): status {
  switch (code) {
    case GatewayExceptionCode.InvalidArgument:
      return status.INVALID_ARGUMENT;
    case GatewayExceptionCode.NotFound:
      return status.NOT_FOUND;
    case GatewayExceptionCode.AlreadyExists:
      return status.ALREADY_EXISTS;
    case GatewayExceptionCode.PermissionDenied:
      return status.PERMISSION_DENIED;
    case GatewayExceptionCode.FailedPrecondition:
      return status.FAILED_PRECONDITION;
    case GatewayExceptionCode.ResourceExhausted:
      return status.RESOURCE_EXHAUSTED;
    case GatewayExceptionCode.Unavailable:
      return status.UNAVAILABLE;
    case GatewayExceptionCode.DeadlineExceeded:
      return status.DEADLINE_EXCEEDED;
    case GatewayExceptionCode.Internal:
      return status.INTERNAL;
  }
}

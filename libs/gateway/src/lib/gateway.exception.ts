import { KeyfleetException } from '@keyfleet/errors';

/**
 * Why a gateway request failed. The codes follow the gRPC statuses the API promises; the
 * app maps each to its status in one place. Messages are safe to return to callers: they
 * name aliases, versions and clusters, never data or key material.
 */
export enum GatewayExceptionCode {
  InvalidArgument = 'INVALID_ARGUMENT',
  NotFound = 'NOT_FOUND',
  AlreadyExists = 'ALREADY_EXISTS',
  PermissionDenied = 'PERMISSION_DENIED',
  FailedPrecondition = 'FAILED_PRECONDITION',
  ResourceExhausted = 'RESOURCE_EXHAUSTED',
  Unavailable = 'UNAVAILABLE',
  DeadlineExceeded = 'DEADLINE_EXCEEDED',
  Internal = 'INTERNAL',
}

/** What an operation had got to when it failed (for the audit record). */
export interface OperationTrace {
  keyVersion?: number;
  clusterId?: string;
  attempts: number;
}

/** The one exception of `@keyfleet/gateway`. */
export class GatewayException extends KeyfleetException<GatewayExceptionCode> {
  constructor(
    code: GatewayExceptionCode,
    message: string,
    options?: { cause?: unknown; trace?: OperationTrace },
  ) {
    super(code, message, options);
    this.trace = options?.trace ?? { attempts: 0 };
  }

  readonly trace: OperationTrace;
}

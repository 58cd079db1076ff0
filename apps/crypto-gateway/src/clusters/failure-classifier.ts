import { GatewayExceptionCode, type FailureClassifier } from '@keyfleet/gateway';
import { HsmException, HsmExceptionCode } from '@keyfleet/hsm';
import { ResilienceException, ResilienceExceptionCode } from '@keyfleet/resilience';

/**
 * How HSM and resilience failures read to callers, and which are worth another attempt
 * (possibly on another cluster). Reasons name the cluster's condition, never data.
 */
export const failureClassifier: FailureClassifier = {
  classify(err) {
    if (err instanceof ResilienceException) {
      switch (err.code) {
        case ResilienceExceptionCode.CircuitOpen:
          return { retryable: true, code: GatewayExceptionCode.Unavailable, reason: 'the cluster is failing (circuit open)' };
        case ResilienceExceptionCode.BulkheadFull:
          return { retryable: false, code: GatewayExceptionCode.ResourceExhausted, reason: 'too many requests in flight; try again later' };
        case ResilienceExceptionCode.QueueTimeout:
        case ResilienceExceptionCode.DeadlineExceeded:
          return { retryable: false, code: GatewayExceptionCode.DeadlineExceeded, reason: 'the deadline passed before the HSM answered' };
        default:
          return { retryable: false, code: GatewayExceptionCode.Unavailable, reason: 'the cluster cannot take the request' };
      }
    }
    if (err instanceof HsmException) return classifyHsm(err);
    return { retryable: false, code: GatewayExceptionCode.Internal, reason: 'internal error' };
  },
};

function classifyHsm(err: HsmException): ReturnType<FailureClassifier['classify']> {
  switch (err.code) {
    case HsmExceptionCode.AuthenticationFailed:
      return { retryable: false, code: GatewayExceptionCode.InvalidArgument, reason: 'ciphertext authentication failed' };
    case HsmExceptionCode.InvalidInput:
      return { retryable: false, code: GatewayExceptionCode.InvalidArgument, reason: 'the HSM rejected the input' };
    case HsmExceptionCode.KeyNotPermitted:
      return { retryable: false, code: GatewayExceptionCode.FailedPrecondition, reason: 'the key does not allow this operation' };
    case HsmExceptionCode.KeyNotFound:
      // The directory says the cluster holds the key and the HSM disagrees: another cluster may still have it.
      return { retryable: true, code: GatewayExceptionCode.Unavailable, reason: 'the key is missing on the cluster' };
    case HsmExceptionCode.SignatureInvalid:
      return { retryable: false, code: GatewayExceptionCode.InvalidArgument, reason: 'the signature is malformed' };
    case HsmExceptionCode.PoolTimeout:
      return { retryable: false, code: GatewayExceptionCode.DeadlineExceeded, reason: 'the deadline passed before the HSM answered' };
    case HsmExceptionCode.LoginFailed:
      return { retryable: true, code: GatewayExceptionCode.Unavailable, reason: 'the gateway cannot log in to the cluster' };
    case HsmExceptionCode.CommandRefused:
      return { retryable: false, code: GatewayExceptionCode.FailedPrecondition, reason: err.message };
    case HsmExceptionCode.AlreadyExists:
      return { retryable: false, code: GatewayExceptionCode.AlreadyExists, reason: err.message };
    case HsmExceptionCode.UserNotFound:
      return { retryable: false, code: GatewayExceptionCode.NotFound, reason: err.message };
    case HsmExceptionCode.CliUnavailable:
      return { retryable: true, code: GatewayExceptionCode.Unavailable, reason: 'the cluster\'s admin interface (cloudhsm-cli) did not answer' };
    case HsmExceptionCode.ModuleLoadFailed:
    case HsmExceptionCode.TokenNotFound:
    case HsmExceptionCode.NotLoggedIn:
    case HsmExceptionCode.SessionBroken:
    case HsmExceptionCode.Busy:
    case HsmExceptionCode.KeyHandleInvalid:
    case HsmExceptionCode.PoolClosed:
    case HsmExceptionCode.InjectedFault:
    case HsmExceptionCode.DeviceError:
      return { retryable: err.retryable, code: GatewayExceptionCode.Unavailable, reason: 'the cluster failed the request' };
  }
}

/** Whether a failure counts against the cluster's breaker: caller mistakes do not; timeouts (a hung HSM) do. */
export function countsAgainstCluster(err: unknown): boolean {
  if (!(err instanceof HsmException)) return !(err instanceof ResilienceException);
  switch (err.code) {
    case HsmExceptionCode.AuthenticationFailed:
    case HsmExceptionCode.InvalidInput:
    case HsmExceptionCode.KeyNotPermitted:
    case HsmExceptionCode.SignatureInvalid:
      return false;
    default:
      return true;
  }
}

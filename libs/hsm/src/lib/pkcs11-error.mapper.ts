import * as pkcs11js from 'pkcs11js';
import { HsmException, HsmExceptionCode } from './hsm.exception';

const BY_CKR: Readonly<Record<string, HsmExceptionCode>> = Object.freeze({
  CKR_USER_NOT_LOGGED_IN: HsmExceptionCode.NotLoggedIn,
  CKR_SESSION_HANDLE_INVALID: HsmExceptionCode.SessionBroken,
  CKR_SESSION_CLOSED: HsmExceptionCode.SessionBroken,
  CKR_DEVICE_REMOVED: HsmExceptionCode.SessionBroken,
  CKR_DEVICE_ERROR: HsmExceptionCode.SessionBroken,
  CKR_TOKEN_NOT_PRESENT: HsmExceptionCode.SessionBroken,
  CKR_CRYPTOKI_NOT_INITIALIZED: HsmExceptionCode.SessionBroken,
  // CloudHSM reports a throttled (busy) HSM with these two; both are worth a retry with backoff.
  // https://docs.aws.amazon.com/cloudhsm/latest/userguide/troubleshoot-hsm-throttling.html
  CKR_FUNCTION_FAILED: HsmExceptionCode.Busy,
  CKR_OPERATION_ACTIVE: HsmExceptionCode.Busy,
  CKR_DEVICE_MEMORY: HsmExceptionCode.Busy,
  CKR_SESSION_COUNT: HsmExceptionCode.Busy,
  CKR_OBJECT_HANDLE_INVALID: HsmExceptionCode.KeyHandleInvalid,
  CKR_KEY_HANDLE_INVALID: HsmExceptionCode.KeyHandleInvalid,
  CKR_KEY_FUNCTION_NOT_PERMITTED: HsmExceptionCode.KeyNotPermitted,
  CKR_KEY_TYPE_INCONSISTENT: HsmExceptionCode.KeyNotPermitted,
  CKR_MECHANISM_INVALID: HsmExceptionCode.KeyNotPermitted,
  CKR_KEY_SIZE_RANGE: HsmExceptionCode.KeyNotPermitted,
  CKR_DATA_LEN_RANGE: HsmExceptionCode.InvalidInput,
  CKR_DATA_INVALID: HsmExceptionCode.InvalidInput,
  CKR_ARGUMENTS_BAD: HsmExceptionCode.InvalidInput,
  CKR_MECHANISM_PARAM_INVALID: HsmExceptionCode.InvalidInput,
  CKR_ENCRYPTED_DATA_INVALID: HsmExceptionCode.AuthenticationFailed,
  CKR_ENCRYPTED_DATA_LEN_RANGE: HsmExceptionCode.AuthenticationFailed,
  CKR_SIGNATURE_INVALID: HsmExceptionCode.SignatureInvalid,
  CKR_SIGNATURE_LEN_RANGE: HsmExceptionCode.SignatureInvalid,
  CKR_PIN_INCORRECT: HsmExceptionCode.LoginFailed,
  CKR_PIN_INVALID: HsmExceptionCode.LoginFailed,
  CKR_PIN_LEN_RANGE: HsmExceptionCode.LoginFailed,
  CKR_PIN_EXPIRED: HsmExceptionCode.LoginFailed,
  CKR_PIN_LOCKED: HsmExceptionCode.LoginFailed,
});

/**
 * The one place that turns a PKCS#11 failure into an `HsmException`: by the CKR_* name
 * pkcs11js puts on its `Pkcs11Error` (never by other message text). An `HsmException`
 * passes through unchanged; anything else is a `DeviceError`.
 *
 * @param what the PKCS#11 function or step, for the message (never data or PINs).
 */
export function toHsmException(err: unknown, what: string): HsmException {
  if (err instanceof HsmException) return err;
  if (err instanceof pkcs11js.Pkcs11Error) {
    const ckr = /^CKR_[A-Z0-9_]+/.exec(err.message)?.[0] ?? `CKR_0x${err.code.toString(16)}`;
    const code = BY_CKR[ckr] ?? HsmExceptionCode.DeviceError;
    return new HsmException(code, `${what} failed with ${ckr}`, { cause: err, ckr });
  }
  return new HsmException(HsmExceptionCode.DeviceError, `${what} failed`, { cause: err });
}

/** True when `err` is the given CKR_* value (for the few places where one value means success, e.g. CKR_USER_ALREADY_LOGGED_IN). */
export function isCkr(err: unknown, ckr: string): boolean {
  return err instanceof pkcs11js.Pkcs11Error && err.message.startsWith(ckr);
}

import { KeyfleetException } from '@keyfleet/errors';

/** Why an HSM operation failed. Each code says, through `HSM_ERROR_TRAITS`, whether to retry and what to do with the session. */
export enum HsmExceptionCode {
  /** The PKCS#11 library could not be copied, loaded or initialised. */
  ModuleLoadFailed = 'MODULE_LOAD_FAILED',
  /** No token with the configured label (or the slot disappeared). */
  TokenNotFound = 'TOKEN_NOT_FOUND',
  /** The PIN was refused (wrong, expired or locked). */
  LoginFailed = 'LOGIN_FAILED',
  /** The library says the user is not logged in any more: log in again, then retry. */
  NotLoggedIn = 'NOT_LOGGED_IN',
  /** The session is closed or invalid, or the device failed: replace the session, then retry. */
  SessionBroken = 'SESSION_BROKEN',
  /** The HSM is busy (CloudHSM reports throttling as CKR_FUNCTION_FAILED or CKR_OPERATION_ACTIVE): retry with backoff. */
  Busy = 'BUSY',
  /** A cached key handle is no longer valid: look the key up again once. */
  KeyHandleInvalid = 'KEY_HANDLE_INVALID',
  /** No key object with the label. */
  KeyNotFound = 'KEY_NOT_FOUND',
  /** The key exists but does not allow this mechanism or function. */
  KeyNotPermitted = 'KEY_NOT_PERMITTED',
  /** Input the HSM rejects as malformed (length, parameters). */
  InvalidInput = 'INVALID_INPUT',
  /** Authenticated decryption failed: tampered data, wrong key or wrong AAD. */
  AuthenticationFailed = 'AUTHENTICATION_FAILED',
  /** A signature or MAC did not verify. */
  SignatureInvalid = 'SIGNATURE_INVALID',
  /** No session became free before the caller's deadline. */
  PoolTimeout = 'POOL_TIMEOUT',
  /** The pool is closing or closed. */
  PoolClosed = 'POOL_CLOSED',
  /** A fault injected by test configuration. */
  InjectedFault = 'INJECTED_FAULT',
  /** Any other CKR_* value: not retried. */
  DeviceError = 'DEVICE_ERROR',
  /** cloudhsm-cli refused an admin command (the reason says why: ownership, quota, limited-write mode...). */
  CommandRefused = 'COMMAND_REFUSED',
  /** cloudhsm-cli: the user, key or label to create already exists. */
  AlreadyExists = 'ALREADY_EXISTS',
  /** cloudhsm-cli: no such user on the cluster. */
  UserNotFound = 'USER_NOT_FOUND',
  /** cloudhsm-cli could not be run or did not answer (missing executable, timeout, unreadable output). */
  CliUnavailable = 'CLI_UNAVAILABLE',
}

/** What a caller should do about each code. */
export const HSM_ERROR_TRAITS: Readonly<Record<HsmExceptionCode, { readonly retryable: boolean; readonly replaceSession: boolean }>> = Object.freeze({
  [HsmExceptionCode.ModuleLoadFailed]: { retryable: false, replaceSession: false },
  [HsmExceptionCode.TokenNotFound]: { retryable: true, replaceSession: false },
  [HsmExceptionCode.LoginFailed]: { retryable: false, replaceSession: false },
  [HsmExceptionCode.NotLoggedIn]: { retryable: true, replaceSession: false },
  [HsmExceptionCode.SessionBroken]: { retryable: true, replaceSession: true },
  [HsmExceptionCode.Busy]: { retryable: true, replaceSession: false },
  [HsmExceptionCode.KeyHandleInvalid]: { retryable: true, replaceSession: false },
  [HsmExceptionCode.KeyNotFound]: { retryable: false, replaceSession: false },
  [HsmExceptionCode.KeyNotPermitted]: { retryable: false, replaceSession: false },
  [HsmExceptionCode.InvalidInput]: { retryable: false, replaceSession: false },
  [HsmExceptionCode.AuthenticationFailed]: { retryable: false, replaceSession: false },
  [HsmExceptionCode.SignatureInvalid]: { retryable: false, replaceSession: false },
  [HsmExceptionCode.PoolTimeout]: { retryable: false, replaceSession: false },
  [HsmExceptionCode.PoolClosed]: { retryable: true, replaceSession: false },
  [HsmExceptionCode.InjectedFault]: { retryable: true, replaceSession: false },
  [HsmExceptionCode.DeviceError]: { retryable: false, replaceSession: true },
  [HsmExceptionCode.CommandRefused]: { retryable: false, replaceSession: false },
  [HsmExceptionCode.AlreadyExists]: { retryable: false, replaceSession: false },
  [HsmExceptionCode.UserNotFound]: { retryable: false, replaceSession: false },
  [HsmExceptionCode.CliUnavailable]: { retryable: true, replaceSession: false },
});

/** The one exception of `@keyfleet/hsm`. Never carries a PIN, key material or data. */
export class HsmException extends KeyfleetException<HsmExceptionCode> {
  constructor(
    code: HsmExceptionCode,
    message: string,
    options?: { cause?: unknown; readonly ckr?: string },
  ) {
    super(code, `${code}: ${message}`, options);
    this.ckr = options?.ckr;
  }

  /** The PKCS#11 return value's name (`CKR_...`) when the library produced this error. */
  readonly ckr: string | undefined;

  /** True when trying again (after backoff, maybe elsewhere) can succeed. */
  get retryable(): boolean {
    return HSM_ERROR_TRAITS[this.code].retryable;
  }
}

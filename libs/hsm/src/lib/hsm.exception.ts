import { KeyfleetException } from '@keyfleet/errors';

/** Why an HSM operation failed. */
export enum HsmExceptionCode {
  /** The PKCS#11 library could not be copied or loaded. */
  ModuleLoadFailed = 'MODULE_LOAD_FAILED',
}

/** The one exception of `@keyfleet/hsm`. Never carries a PIN or key material. */
export class HsmException extends KeyfleetException<HsmExceptionCode> {
  constructor(code: HsmExceptionCode, message: string, options?: { cause?: unknown }) {
    super(code, `${code}: ${message}`, options);
  }
}

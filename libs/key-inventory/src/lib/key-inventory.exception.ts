import { KeyfleetException } from '@keyfleet/errors';

/** Why the inventory refused a change. */
export enum KeyInventoryExceptionCode {
  /** A key with that alias already exists. */
  AliasExists = 'ALIAS_EXISTS',
  /** The requested usage does not fit the key type (e.g. sign-verify with AES). */
  UsageNotSupported = 'USAGE_NOT_SUPPORTED',
}

/** The one exception of `@keyfleet/key-inventory`. */
export class KeyInventoryException extends KeyfleetException<KeyInventoryExceptionCode> {
  constructor(code: KeyInventoryExceptionCode, message: string) {
    super(code, message);
  }
}

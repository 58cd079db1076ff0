import { KeyfleetException } from '@keyfleet/errors';

/** Why a caller could not be identified, or why the caller policy could not be loaded. */
export enum SecurityExceptionCode {
  /** The peer presented no certificate, or one without a `spiffe://keyfleet.local/...` URI SAN. */
  MissingIdentity = 'MISSING_IDENTITY',
  /** The certificate names a SPIFFE ID that is not a keyfleet caller (other trust domain, bad path, several IDs). */
  ForeignIdentity = 'FOREIGN_IDENTITY',
  /** The certificate could not be parsed. */
  UnreadableCertificate = 'UNREADABLE_CERTIFICATE',
  /** The policy file is missing, not JSON, or does not match the policy schema. */
  InvalidPolicy = 'INVALID_POLICY',
}

/**
 * The one exception of the gateway's security code (caller identity and policy). Messages
 * name certificates' identities, files and schema paths only; the transport adapter turns
 * identity failures into PERMISSION_DENIED.
 */
export class SecurityException extends KeyfleetException<SecurityExceptionCode> {}

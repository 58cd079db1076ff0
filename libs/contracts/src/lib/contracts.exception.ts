/** Why a message was refused by the contracts layer. */
export enum ContractsExceptionCode {
  /** The bytes are not JSON. */
  MalformedJson = 'MALFORMED_JSON',
  /** The input is larger than the configured limit. */
  TooLarge = 'TOO_LARGE',
  /** The envelope (id, type, time, actor...) does not match its schema. */
  InvalidEnvelope = 'INVALID_ENVELOPE',
  /** The `type` is not one keyfleet knows. */
  UnknownType = 'UNKNOWN_TYPE',
  /** The `data` does not match the schema of the message type. */
  InvalidData = 'INVALID_DATA',
}

/** The one exception of `@keyfleet/contracts`: a message that breaks the contract. */
export class ContractsException extends Error {
  override readonly name = 'ContractsException';

  constructor(
    readonly code: ContractsExceptionCode,
    /** Where in the message the problem is (`data.alias`), or `''` for the whole message. */
    readonly path: string,
    /** Why, in words safe to log: never the offending value itself. */
    readonly reason: string,
  ) {
    super(`${code}${path ? ` at ${path}` : ''}: ${reason}`);
  }
}

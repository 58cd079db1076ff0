/** Why configuration was refused. */
export enum ConfigExceptionCode {
  /** One or more variables are missing or invalid. */
  Invalid = 'INVALID_CONFIGURATION',
}

/** The one exception of `@keyfleet/config`: names every bad variable, never a value. */
export class ConfigException extends Error {
  override readonly name = 'ConfigException';
  readonly code = ConfigExceptionCode.Invalid;

  constructor(
    /** One line per problem: `KAFKA_BROKERS: required`. */
    readonly problems: readonly string[],
  ) {
    super(problems.join('; '));
  }
}

/** Why configuration was refused. */
export enum ConfigExceptionCode {
  /** One or more environment variables are missing or invalid. */
  Invalid = 'INVALID_CONFIGURATION',
}

/**
 * The one exception of `@keyfleet/config`. Its message names every bad or missing
 * variable and why, one problem per `;`-separated part, and never a secret value.
 */
export class ConfigException extends Error {
  override readonly name = 'ConfigException';

  constructor(
    /** One entry per problem, e.g. `KAFKA_BROKERS: required`. */
    readonly problems: readonly string[],
    readonly code: ConfigExceptionCode = ConfigExceptionCode.Invalid,
  ) {
    super(problems.join('; '));
  }
}

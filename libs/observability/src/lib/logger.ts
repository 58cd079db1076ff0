import pino, { type DestinationStream, type LevelWithSilent, type Logger } from 'pino';

/**
 * Field names whose values never reach a log line, whatever object carries them. pino
 * matches keys exactly, so the spellings AWS and HTTP use are listed too.
 */
const SECRET_FIELDS = [
  'password',
  'Password',
  'passphrase',
  'pin',
  'PIN',
  'Pin',
  'secret',
  'clientSecret',
  'token',
  'accessToken',
  'refreshToken',
  'sessionToken',
  'apiKey',
  'plaintext',
  'Plaintext',
  'keyMaterial',
  'KeyMaterial',
  'privateKey',
  'authorization',
  'Authorization',
  'cookie',
  'SecretString',
  'SecretBinary',
  'databaseUrl',
];

/** How far below the top level a secret field is still found (pino has no recursive wildcard). */
const REDACT_DEPTH = 4;

/** pino redact paths: every secret field at the top level and up to `REDACT_DEPTH` levels down. */
export const REDACT_PATHS: readonly string[] = SECRET_FIELDS.flatMap((field) =>
  Array.from({ length: REDACT_DEPTH + 1 }, (_, depth) => `${'*.'.repeat(depth)}${field}`),
);

/** What replaces a redacted value. */
export const REDACTED = '[redacted]';

/** Options of `createLogger`. */
export interface LoggerOptions {
  /** Written as `service` on every line. */
  readonly service: string;
  readonly level: LevelWithSilent;
}

/**
 * The JSON logger of a keyfleet process: one line per event with `service`, `level` (as a
 * word) and an ISO `time`; errors under `err` with their stack; fields named like secrets
 * (password, pin, secret, token, plaintext, keyMaterial, privateKey, authorization...)
 * replaced by `[redacted]` at any depth up to four levels, inside errors and child
 * bindings too.
 *
 * @param destination - where lines go; stdout by default (tests pass a stream).
 */
export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      serializers: { err: pino.stdSerializers.err },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

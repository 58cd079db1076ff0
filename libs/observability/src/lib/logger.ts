import pino, { type DestinationStream, type Logger } from 'pino';

/** Field names whose values never reach a log line, whatever object carries them. */
const SECRET_FIELDS = [
  'password',
  'pin',
  'secret',
  'token',
  'plaintext',
  'keyMaterial',
  'privateKey',
  'authorization',
  'SecretString',
  'SecretBinary',
  'databaseUrl',
];

/** pino redact paths: the fields at the top level and up to three levels down. */
export const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`]);

export interface LoggerOptions {
  readonly service: string;
  readonly level: string;
}

/**
 * The JSON logger of a keyfleet process: one line per event, `service` on every line,
 * errors under `err` (stack kept), secret-named fields replaced by `[redacted]`.
 */
export function createLogger(options: LoggerOptions, destination?: DestinationStream): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

import { z } from 'zod';

/**
 * Marks a field as secret: `loadConfig` never shows its value, whatever the variable is
 * called (names containing PASS, SECRET, PIN, TOKEN or KEY are treated as secret anyway).
 */
export const SECRET_FIELD = 'keyfleet:secret';

/** The log levels pino knows, least to most verbose, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** One of `LOG_LEVELS`. */
export type LogLevel = (typeof LOG_LEVELS)[number];

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;

/**
 * Reusable fields for environment schemas (each takes the raw string of one variable).
 * Their messages say what is expected; `loadConfig` adds what was received when that is
 * safe to show.
 */
export const envFields = {
  /** A TCP port, 1-65535, as a number. */
  port: () =>
    z
      .string()
      .regex(/^\d{1,5}$/, 'expected an integer 1-65535')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 65_535, 'expected an integer 1-65535'),

  /** Kafka bootstrap servers `host:port[,host:port...]`, as a list. */
  brokers: () =>
    z
      .string()
      .regex(/^[A-Za-z0-9.-]+:\d{1,5}(,[A-Za-z0-9.-]+:\d{1,5})*$/, 'expected host:port[,host:port...]')
      .transform((s) => s.split(',')),

  /** `postgres://user:password@host:port/database[?options]`; errors show it with the password masked. */
  postgresUrl: () =>
    z.string().regex(/^postgres(ql)?:\/\/[^\s/]+\/[A-Za-z0-9_-]+(\?\S*)?$/, 'expected postgres://user:password@host:port/database'),

  /** A pino log level; `info` when unset. */
  logLevel: () =>
    z.enum(LOG_LEVELS, { errorMap: () => ({ message: `expected one of ${LOG_LEVELS.join(', ')}` }) }).default('info'),

  /**
   * A duration in milliseconds: `1500`, `1500ms`, `30s`, `5m` or `1h` (a bare number is
   * milliseconds), as a number of milliseconds.
   */
  durationMs: () =>
    z
      .string()
      .regex(/^\d+(ms|s|m|h)?$/, 'expected a duration such as 1500, 1500ms, 30s, 5m or 1h')
      .transform((s) => {
        const [, amount = '0', unit = 'ms'] = /^(\d+)(ms|s|m|h)?$/.exec(s) ?? [];
        return Number(amount) * DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS];
      }),

  /**
   * A required secret (password, PIN, token). Deliberately has no default: a secret that
   * is not configured must stop the process, not fall back to a well-known value.
   */
  secret: ({ minLength = 1 }: { minLength?: number } = {}) =>
    z
      .string()
      .min(minLength, minLength > 1 ? `expected at least ${minLength} characters` : 'expected a non-empty value')
      .describe(SECRET_FIELD),

  /** A Kafka topic-name prefix: empty in production, a namespace in tests and demos. */
  topicPrefix: () =>
    z
      .string()
      .regex(/^([A-Za-z0-9_-]+\.)*$/, 'expected dot-terminated segments of letters, digits, _ and - (e.g. demo.)')
      .default(''),

  /** A positive integer, as a number. */
  positiveInt: () =>
    z
      .string()
      .regex(/^\d+$/, 'expected a positive integer')
      .transform(Number)
      .refine((n) => n >= 1 && Number.isSafeInteger(n), 'expected a positive integer'),

  /** An IPv4/IPv6 address or host name to bind to. */
  host: () => z.string().regex(/^[A-Za-z0-9.:-]+$/, 'expected an address or host name'),

  /** A Kafka client id: letters, digits, `.`, `_` and `-`. */
  clientId: () => z.string().regex(/^[A-Za-z0-9._-]{1,100}$/, 'expected 1-100 letters, digits, ., _ or -'),
};

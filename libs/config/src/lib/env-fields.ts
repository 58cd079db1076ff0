import { z } from 'zod';

/**
 * Reusable fields for environment schemas. Their messages describe what is expected and
 * never quote what was received.
 */
export const envFields = {
  /** A TCP port, 1-65535. */
  port: () =>
    z
      .string()
      .regex(/^\d+$/, 'expected an integer 1-65535')
      .transform(Number)
      .refine((n) => n >= 1 && n <= 65_535, 'expected an integer 1-65535'),

  /** `host:port[,host:port...]`. */
  brokers: () =>
    z
      .string()
      .regex(/^[A-Za-z0-9.-]+:\d+(,[A-Za-z0-9.-]+:\d+)*$/, 'expected host:port[,host:port...]')
      .transform((s) => s.split(',')),

  /** `postgres://user:password@host:port/database`. */
  postgresUrl: () =>
    z.string().regex(/^postgres(ql)?:\/\/[^\s/]+\/[A-Za-z0-9_-]+(\?.*)?$/, 'expected postgres://user:password@host:port/database'),

  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  /** A Kafka topic-name prefix: empty in production, a namespace in tests and demos. */
  topicPrefix: () =>
    z
      .string()
      .regex(/^([A-Za-z0-9_-]+\.)*$/, 'expected dot-terminated segments of letters, digits, _ and - (e.g. demo.)')
      .default(''),

  /** A positive integer. */
  positiveInt: () =>
    z
      .string()
      .regex(/^\d+$/, 'expected a positive integer')
      .transform(Number)
      .refine((n) => n >= 1, 'expected a positive integer'),

  /** An IPv4/IPv6 address or host name to bind to. */
  host: () => z.string().regex(/^[A-Za-z0-9.:-]+$/, 'expected an address or host name'),
};

import { z } from 'zod';
import { envFields } from './env-fields';

const httpShape = (defaultPort: number) => ({
  HTTP_HOST: envFields.host().default('127.0.0.1'),
  HTTP_PORT: envFields.port().default(String(defaultPort)),
});
const kafkaShape = {
  KAFKA_BROKERS: envFields.brokers(),
  KAFKA_TOPIC_PREFIX: envFields.topicPrefix(),
  KAFKA_TOPIC_PARTITIONS: envFields.positiveInt().default('3'),
  KAFKA_REPLICATION_FACTOR: envFields.positiveInt().default('1'),
};

/**
 * Configuration of a service with HTTP (health, metrics) and Kafka but no database of its own.
 * Variables: HTTP_HOST (127.0.0.1), HTTP_PORT, LOG_LEVEL (info), KAFKA_BROKERS (required),
 * KAFKA_TOPIC_PREFIX (''), KAFKA_TOPIC_PARTITIONS (3), KAFKA_REPLICATION_FACTOR (1).
 */
export function messagingServiceConfig(options: { defaultPort: number }) {
  return z.object({ ...httpShape(options.defaultPort), LOG_LEVEL: envFields.logLevel(), ...kafkaShape }).transform((env) => ({
    http: { host: env.HTTP_HOST, port: env.HTTP_PORT },
    log: { level: env.LOG_LEVEL },
    kafka: {
      brokers: env.KAFKA_BROKERS,
      topicPrefix: env.KAFKA_TOPIC_PREFIX,
      partitions: env.KAFKA_TOPIC_PARTITIONS,
      replicationFactor: env.KAFKA_REPLICATION_FACTOR,
    },
  }));
}

/**
 * Configuration of a service that also owns a Postgres schema: the variables of
 * `messagingServiceConfig` plus DATABASE_URL (required). The schema name is the service's
 * own; DATABASE_SCHEMA overrides it only to isolate test suites or side-by-side environments.
 */
export function dataServiceConfig(options: { defaultPort: number; schema: string }) {
  return messagingServiceConfig(options)
    .innerType()
    .extend({
      DATABASE_URL: envFields.postgresUrl(),
      // Only for tests and side-by-side environments on one database: each service owns one schema.
      DATABASE_SCHEMA: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lower-case SQL identifier')
        .optional(),
    })
    .transform((env) => ({
      http: { host: env.HTTP_HOST, port: env.HTTP_PORT },
      log: { level: env.LOG_LEVEL },
      kafka: {
        brokers: env.KAFKA_BROKERS,
        topicPrefix: env.KAFKA_TOPIC_PREFIX,
        partitions: env.KAFKA_TOPIC_PARTITIONS,
        replicationFactor: env.KAFKA_REPLICATION_FACTOR,
      },
      db: { url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA ?? options.schema },
    }));
}

export type MessagingServiceConfig = z.output<ReturnType<typeof messagingServiceConfig>>;
export type DataServiceConfig = z.output<ReturnType<typeof dataServiceConfig>>;

import { z } from 'zod';
import { envFields, type LogLevel } from './env-fields';

/** What every keyfleet service's configuration has, whatever else it adds. */
export interface ServiceConfigBase {
  readonly http: { readonly host: string; readonly port: number };
  readonly log: { readonly level: LogLevel };
}

/** Options shared by the service configuration builders. */
export interface ServiceConfigOptions {
  /** The service name; default Kafka client id. */
  readonly service: string;
  /** HTTP_PORT when unset. */
  readonly defaultPort: number;
}

/** The flat variables behind `http` and `log`, for services that build their own schema. */
export const httpAndLogFields = (defaultPort: number) => ({
  HTTP_HOST: envFields.host().default('127.0.0.1'),
  HTTP_PORT: envFields.port().default(String(defaultPort)),
  LOG_LEVEL: envFields.logLevel(),
});

const kafkaFields = (service: string) => ({
  KAFKA_BROKERS: envFields.brokers(),
  KAFKA_CLIENT_ID: envFields.clientId().default(service),
  KAFKA_TOPIC_PREFIX: envFields.topicPrefix(),
  KAFKA_TOPIC_PARTITIONS: envFields.positiveInt().default('3'),
  KAFKA_REPLICATION_FACTOR: envFields.positiveInt().default('1'),
});

type HttpAndLogEnv = z.output<z.ZodObject<ReturnType<typeof httpAndLogFields>>>;
type KafkaEnv = z.output<z.ZodObject<ReturnType<typeof kafkaFields>>>;

const toHttpAndLog = (env: HttpAndLogEnv) => ({
  http: { host: env.HTTP_HOST, port: env.HTTP_PORT },
  log: { level: env.LOG_LEVEL },
});

const toKafka = (env: KafkaEnv) => ({
  brokers: env.KAFKA_BROKERS,
  clientId: env.KAFKA_CLIENT_ID,
  topicPrefix: env.KAFKA_TOPIC_PREFIX,
  partitions: env.KAFKA_TOPIC_PARTITIONS,
  replicationFactor: env.KAFKA_REPLICATION_FACTOR,
});

/**
 * Schema of a service with HTTP (health, metrics) and Kafka but no database of its own.
 *
 * Variables: HTTP_HOST (127.0.0.1), HTTP_PORT (`defaultPort`), LOG_LEVEL (info),
 * KAFKA_BROKERS (required), KAFKA_CLIENT_ID (the service name), KAFKA_TOPIC_PREFIX (''),
 * KAFKA_TOPIC_PARTITIONS (3), KAFKA_REPLICATION_FACTOR (1).
 *
 * @returns a zod schema whose output is `{ http, log, kafka }`.
 */
export function messagingServiceConfig(options: ServiceConfigOptions) {
  return z
    .object({ ...httpAndLogFields(options.defaultPort), ...kafkaFields(options.service) })
    .transform((env) => ({ ...toHttpAndLog(env), kafka: toKafka(env) }));
}

/**
 * Schema of a service that also owns a Postgres schema: the variables of
 * `messagingServiceConfig` plus DATABASE_URL (required, no default: it holds a password).
 * The schema name is the service's own; DATABASE_SCHEMA overrides it only so that test
 * suites and side-by-side environments can share one database without sharing state.
 *
 * @returns a zod schema whose output is `{ http, log, kafka, db: { url, schema } }`.
 */
export function dataServiceConfig(options: ServiceConfigOptions & { readonly schema: string }) {
  return z
    .object({
      ...httpAndLogFields(options.defaultPort),
      ...kafkaFields(options.service),
      DATABASE_URL: envFields.postgresUrl(),
      DATABASE_SCHEMA: z
        .string()
        .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lower-case SQL identifier')
        .optional(),
    })
    .transform((env) => ({
      ...toHttpAndLog(env),
      kafka: toKafka(env),
      db: { url: env.DATABASE_URL, schema: env.DATABASE_SCHEMA ?? options.schema },
    }));
}

/** Output of `messagingServiceConfig`. */
export type MessagingServiceConfig = z.output<ReturnType<typeof messagingServiceConfig>>;
/** Output of `dataServiceConfig`. */
export type DataServiceConfig = z.output<ReturnType<typeof dataServiceConfig>>;

import { Kafka, logLevel as KafkaLogLevel, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';

/** How to reach Kafka: plain data, so it can also be handed to a worker thread. */
export interface KafkaConnectionSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** kafkajs is chatty at INFO; WARN keeps its connection noise out of service logs. */
  readonly logLevel?: 'error' | 'warn' | 'info' | 'debug';
  /**
   * How patient kafkajs is with retriable errors. Services leave it at QUICK_RETRIES (their
   * own loops retry); a one-shot process with no loop of its own, such as the CLI, passes
   * PATIENT_RETRIES so a broker that is still electing leaders or loading a group is waited for.
   */
  readonly retry?: KafkaRetry;
}

export interface KafkaClientOptions extends KafkaConnectionSettings {
  readonly logger: Logger;
}

/** Where kafkajs's log entries go: a service's pino logger, or the thread that owns one. */
export type KafkaLog = (level: 'error' | 'warn' | 'info' | 'debug', message: string, fields: Record<string, unknown>) => void;

export interface KafkaRetry {
  readonly initialRetryTime: number;
  readonly maxRetryTime: number;
  readonly retries: number;
}

/** A few quick attempts (~6 s at most): for processes that retry in their own loops. */
export const QUICK_RETRIES: KafkaRetry = { initialRetryTime: 100, maxRetryTime: 2_000, retries: 5 };
/** Up to ~30 s: for one-shot processes. */
export const PATIENT_RETRIES: KafkaRetry = { initialRetryTime: 300, maxRetryTime: 5_000, retries: 8 };

const LEVELS = {
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
} as const;
/** The other way round, for log entries. */
const LEVEL_NAMES: Partial<Record<KafkaLogLevel, keyof typeof LEVELS>> = {
  [KafkaLogLevel.ERROR]: 'error',
  [KafkaLogLevel.WARN]: 'warn',
  [KafkaLogLevel.INFO]: 'info',
  [KafkaLogLevel.DEBUG]: 'debug',
};

/** Creates the kafkajs client with its logs routed into the service's pino logger. */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  const log = options.logger.child({ client: 'kafkajs' });
  return kafkaClient(options, (level, message, fields) => log[level](fields, message));
}

/** Creates the kafkajs client with its logs handed to `log`. */
export function kafkaClient(settings: KafkaConnectionSettings, log: KafkaLog): Kafka {
  return new Kafka({
    clientId: settings.clientId,
    brokers: [...settings.brokers],
    logLevel: LEVELS[settings.logLevel ?? 'warn'],
    // Services retry connection failures in their own loops (relay backoff, consumer
    // restart), so by default kafkajs gives up after a few quick attempts.
    retry: { ...(settings.retry ?? QUICK_RETRIES) },
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...fields } = entry;
        log(LEVEL_NAMES[level] ?? 'debug', message, fields);
      },
  });
}

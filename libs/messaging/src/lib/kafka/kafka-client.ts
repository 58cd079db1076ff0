import { Kafka, logLevel as KafkaLogLevel, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';

export interface KafkaClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logger: Logger;
  /** kafkajs is chatty at INFO; WARN keeps its connection noise out of service logs. */
  readonly logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

const LEVELS = {
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
} as const;

/** Creates the kafkajs client with its logs routed into the service's pino logger. */
export function createKafkaClient(options: KafkaClientOptions): Kafka {
  const log = options.logger.child({ client: 'kafkajs' });
  return new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    logLevel: LEVELS[options.logLevel ?? 'warn'],
    // Connection failures are retried by our own loops (relay backoff, consumer restart),
    // so kafkajs gives up after a few quick attempts instead of blocking for minutes.
    retry: { initialRetryTime: 100, maxRetryTime: 2_000, retries: 5 },
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...fields } = entry;
        if (level === KafkaLogLevel.ERROR) log.error(fields, message);
        else if (level === KafkaLogLevel.WARN) log.warn(fields, message);
        else if (level === KafkaLogLevel.INFO) log.info(fields, message);
        else log.debug(fields, message);
      },
  });
}

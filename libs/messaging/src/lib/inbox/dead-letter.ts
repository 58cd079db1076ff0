import type { KafkaMessage } from 'kafkajs';
import { dlqTopic } from '@keyfleet/contracts';
import type { OutgoingRecord } from '../kafka/message-publisher';

/** Headers a dead-lettered record carries, besides the original ones. */
export const DeadLetterHeaders = Object.freeze({
  Reason: 'keyfleet-dlq-reason',
  ReasonCode: 'keyfleet-dlq-reason-code',
  SourceTopic: 'keyfleet-dlq-source-topic',
  SourcePartition: 'keyfleet-dlq-source-partition',
  SourceOffset: 'keyfleet-dlq-source-offset',
  ConsumerGroup: 'keyfleet-dlq-consumer-group',
  Attempts: 'keyfleet-dlq-attempts',
  Time: 'keyfleet-dlq-time',
} as const);

export interface DeadLetterCause {
  /** A short code for metrics: INVALID_DATA, MALFORMED_JSON, HANDLER_FAILED... */
  readonly code: string;
  /** Why, safe to log (never a value from the message). */
  readonly reason: string;
  readonly attempts: number;
}

function headerText(value: Buffer | string | (Buffer | string)[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

/**
 * The dead-letter record of a message that could not be processed: the original bytes and
 * key untouched (so it can be replayed), the original headers, and headers saying why,
 * where from and after how many attempts.
 */
export function deadLetterRecord(
  source: { topic: string; partition: number; message: KafkaMessage },
  group: string,
  cause: DeadLetterCause,
  now: Date = new Date(),
): OutgoingRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(source.message.headers ?? {})) {
    const text = headerText(value);
    if (text !== undefined) headers[name] = text;
  }
  Object.assign(headers, {
    [DeadLetterHeaders.Reason]: cause.reason.slice(0, 1_000),
    [DeadLetterHeaders.ReasonCode]: cause.code,
    [DeadLetterHeaders.SourceTopic]: source.topic,
    [DeadLetterHeaders.SourcePartition]: String(source.partition),
    [DeadLetterHeaders.SourceOffset]: source.message.offset,
    [DeadLetterHeaders.ConsumerGroup]: group,
    [DeadLetterHeaders.Attempts]: String(cause.attempts),
    [DeadLetterHeaders.Time]: now.toISOString(),
  });
  return {
    topic: dlqTopic(source.topic),
    key: source.message.key?.toString() ?? '',
    value: source.message.value ?? Buffer.alloc(0),
    headers,
  };
}

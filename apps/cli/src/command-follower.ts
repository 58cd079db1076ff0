import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import {
  decodeMessage,
  dlqTopic,
  encodeMessage,
  MessageTypes,
  topicOf,
  Topics,
  type AnyMessage,
  type Message,
} from '@keyfleet/contracts';
import type { MessagePublisher } from '@keyfleet/messaging';

/** How a followed command ended. */
export type FollowOutcome =
  | { readonly status: 'completed'; readonly reply: AnyMessage; readonly auditSequence: number }
  | { readonly status: 'rejected'; readonly reason: string }
  | { readonly status: 'dead-lettered'; readonly reason: string }
  | { readonly status: 'timed-out'; readonly waitingFor: string };

export interface FollowOptions {
  readonly topicPrefix: string;
  readonly timeoutMs: number;
  /** Where progress lines go (stdout in the CLI). */
  readonly print: (line: string) => void;
}

const REPLY_TYPES: ReadonlySet<string> = new Set([MessageTypes.KeyRegisteredV1, MessageTypes.KeyCommandRejectedV1]);

/**
 * Publishes a command and follows what the platform does with it: the owning service's
 * answer (correlated by the command id), the audit records of the command and of the
 * answer, or the command's dead-lettering. It starts reading the answer topics at their
 * end offsets taken before publishing, so it neither misses an answer nor replays history.
 */
export class CommandFollower {
  constructor(
    private readonly kafka: Kafka,
    private readonly publisher: MessagePublisher,
  ) {}

  async publishAndFollow(command: Message, options: FollowOptions): Promise<FollowOutcome> {
    const prefixed = (t: string) => `${options.topicPrefix}${t}`;
    const commandTopic = prefixed(topicOf(command.type));
    const topics = [prefixed(Topics.KeyEvents), prefixed(Topics.AuditRecords), dlqTopic(commandTopic)];
    const started = Date.now();
    const since = () => `${Date.now() - started} ms`;
    const groupId = `keyfleet-cli-${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const startOffsets = await Promise.all(topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) })));
      let settle!: (outcome: FollowOutcome) => void;
      const done = new Promise<FollowOutcome>((resolve) => (settle = resolve));
      let reply: AnyMessage | undefined;
      const audited = new Map<string, number>();
      const tryComplete = () => {
        if (!reply) return;
        const sequence = audited.get(reply.id);
        if (sequence === undefined) return;
        if (reply.type === MessageTypes.KeyCommandRejectedV1) settle({ status: 'rejected', reason: reply.data.reason });
        else settle({ status: 'completed', reply, auditSequence: sequence });
      };

      await consumer.connect();
      await consumer.subscribe({ topics });
      await consumer.run({
        eachMessage: ({ topic, message }) => {
          if (topic === dlqTopic(commandTopic)) {
            if (message.headers?.['keyfleet-id']?.toString() === command.id) {
              const reason = message.headers['keyfleet-dlq-reason']?.toString() ?? 'no reason given';
              options.print(`✗ dead-lettered by ${message.headers['keyfleet-dlq-consumer-group']?.toString() ?? 'a consumer'}: ${reason}`);
              settle({ status: 'dead-lettered', reason });
            }
            return Promise.resolve();
          }
          const decoded = decodeMessage(message.value);
          if (!decoded.ok || decoded.message.correlationId !== command.correlationId) return Promise.resolve();
          const event = decoded.message;
          if (REPLY_TYPES.has(event.type) && !reply) {
            reply = event;
            options.print(describeReply(event, since()));
          } else if (event.type === MessageTypes.AuditRecordAppendedV1) {
            audited.set(event.data.recordedMessageId, event.data.sequence);
            options.print(
              `✓ audit-service: record #${event.data.sequence} for ${event.data.recordedType} chained (hash ${event.data.recordHash.slice(0, 12)}…) [${since()}]`,
            );
          }
          tryComplete();
          return Promise.resolve();
        },
      });
      for (const { topic, offsets } of startOffsets) {
        for (const { partition, offset } of offsets) consumer.seek({ topic, partition, offset });
      }

      await this.publisher.publish([
        {
          topic: commandTopic,
          key: command.subject,
          value: encodeMessage(command),
          headers: { 'keyfleet-id': command.id, 'keyfleet-type': command.type, 'keyfleet-correlation-id': command.correlationId },
        },
      ]);
      options.print(`→ published ${command.type} ${command.id} for '${command.subject}' to ${commandTopic}`);

      const timer = setTimeout(
        () => settle({ status: 'timed-out', waitingFor: reply ? 'the audit record of the answer' : 'an answer from the owning service' }),
        options.timeoutMs,
      );
      const outcome = await done;
      clearTimeout(timer);
      return outcome;
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.disconnect();
    }
  }
}

function describeReply(event: AnyMessage, elapsed: string): string {
  switch (event.type) {
    case MessageTypes.KeyRegisteredV1:
      return `✓ ${event.source}: key '${event.data.alias}' registered, version ${event.data.version}, state ${event.data.state}, HSM label ${event.data.label} [${elapsed}]`;
    case MessageTypes.KeyCommandRejectedV1:
      return `✗ ${event.source}: rejected: ${event.data.reason} [${elapsed}]`;
    default:
      return `· ${event.source}: ${event.type} [${elapsed}]`;
  }
}

export interface RetryOptions {
  /** Tries in all (the first included). */
  readonly attempts: number;
  /** Pause before the n-th retry: n times this. */
  readonly delayMs: number;
  /** Told of each failure that is followed by another try. */
  readonly onRetry: (error: unknown, retry: number) => void;
}

/**
 * Runs `follow` again when it throws (Kafka refused a request), up to `attempts` times. Sound
 * because a command is published with the same message id on every try and consumers drop
 * duplicates by id; an outcome (completed, rejected, dead-lettered, timed out) is never retried.
 */
export async function followWithRetries(follow: () => Promise<FollowOutcome>, options: RetryOptions): Promise<FollowOutcome> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await follow();
    } catch (err) {
      if (attempt >= options.attempts) throw err;
      options.onRetry(err, attempt);
      await new Promise((r) => setTimeout(r, options.delayMs * attempt));
    }
  }
}

/** An error's message with its causes (kafkajs wraps the broker's answer), for the operator. */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 4; depth += 1) {
    parts.push(e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(': ');
}

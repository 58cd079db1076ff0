import type { Consumer, EachMessagePayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { Topics, decodeMessage } from '@keyfleet/contracts';
import { GatewayException } from '@keyfleet/gateway';
import { deadLetterRecord, fullJitterDelay, type RecordPublisher } from '@keyfleet/messaging';
import type { ControlEventHandler } from './control-event.handler';

/** The topics whose events steer the gateway (rotation-, migration- and key-service's events). */
export const CONTROL_TOPICS = Object.freeze([Topics.RotationEvents, Topics.MigrationEvents, Topics.KeyEvents] as const);

export interface ControlEventsConsumerOptions {
  readonly kafka: Kafka;
  readonly topicPrefix: string;
  /**
   * The consumer group: one per gateway instance, since every instance must apply every
   * event (weights and credentials are per process). A new group starts at the newest
   * offsets: the instance's state folder and clusters file hold what came before.
   */
  readonly groupId: string;
  readonly handler: ControlEventHandler;
  /** Where dead letters go (`<topic>.dlq`). */
  readonly publisher: RecordPublisher;
  readonly logger: Logger;
  /** Attempts for a failure that is not a refusal (e.g. the secret store is away) before dead-lettering; default 5. */
  readonly attempts?: number;
}

/**
 * Consumes the rotation, migration and key event topics and hands each event to the
 * handler. Undecodable events and events the gateway refuses go to the topic's dead-letter
 * topic with the reason; transient failures are retried with backoff first. The offset is
 * committed only after the event was applied or dead-lettered, so none is lost.
 */
export class ControlEventsConsumer {
  private consumer: Consumer | undefined;

  constructor(private readonly options: ControlEventsConsumerOptions) {}

  get topics(): string[] {
    return CONTROL_TOPICS.map((t) => `${this.options.topicPrefix}${t}`);
  }

  async start(): Promise<void> {
    const consumer = this.options.kafka.consumer({ groupId: this.options.groupId, allowAutoTopicCreation: false });
    this.consumer = consumer;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: this.topics, fromBeginning: false });
      await consumer.run({ autoCommit: true, eachMessage: (payload) => this.handle(payload) });
    } catch (err) {
      // The caller retries with a new consumer: this one must not stay connected beside it.
      await this.stop();
      this.consumer = undefined;
      throw err;
    }
  }

  /** Leaves the group; bounded, since a consumer reconnecting to an unreachable Kafka may not answer (shutdown must not hang). */
  async stop(timeoutMs = 3_000): Promise<void> {
    if (!this.consumer) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
    try {
      const result = await Promise.race([this.consumer.disconnect().then(() => 'done' as const), timedOut]);
      if (result === 'timeout') this.options.logger.warn({ timeoutMs }, 'control events consumer did not disconnect in time; stopping anyway');
    } catch (err) {
      this.options.logger.warn({ err }, 'control events consumer failed to disconnect cleanly');
    } finally {
      clearTimeout(timer);
    }
  }

  private async handle({ topic, partition, message }: EachMessagePayload): Promise<void> {
    const decoded = decodeMessage(message.value);
    if (!decoded.ok) {
      await this.deadLetter(topic, partition, message, decoded.error.code, decoded.error.message, 1);
      return;
    }
    const attempts = this.options.attempts ?? 5;
    for (let attempt = 1; ; attempt += 1) {
      try {
        const outcome = await this.options.handler.apply(decoded.message);
        if (outcome === 'applied') this.options.logger.debug({ topic, offset: message.offset, type: decoded.message.type }, 'control event applied');
        return;
      } catch (err) {
        if (err instanceof GatewayException) {
          await this.deadLetter(topic, partition, message, `REJECTED_${err.code}`, err.message, attempt);
          return;
        }
        if (attempt >= attempts) {
          this.options.logger.error({ err, topic, offset: message.offset, type: decoded.message.type }, 'control event failed on every attempt');
          await this.deadLetter(topic, partition, message, 'HANDLER_FAILED', err instanceof Error ? err.message : 'handler failed', attempt);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, fullJitterDelay(attempt, { baseMs: 200, capMs: 5_000 })));
      }
    }
  }

  private async deadLetter(topic: string, partition: number, message: EachMessagePayload['message'], code: string, reason: string, attempts: number): Promise<void> {
    this.options.logger.warn({ topic, offset: message.offset, code, reason }, 'control event dead-lettered');
    // If the dead letter cannot be written the error propagates: kafkajs does not commit and redelivers.
    await this.options.publisher.publish([deadLetterRecord({ topic, partition, message }, this.options.groupId, { code, reason, attempts })]);
  }
}

import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { ALL_TOPICS } from '@keyfleet/contracts';
import { InboxConsumer, type InboxConsumerOptions } from './inbox/inbox-consumer';
import { createKafkaClient } from './kafka/kafka-client';
import { MessagePublisher } from './kafka/message-publisher';
import { provisionTopics, type TopicSettings } from './kafka/topic-provisioner';
import { MessagingMetrics } from './messaging.metrics';
import { OutboxRelay, type OutboxRelayOptions } from './outbox/outbox-relay';

export interface MessagingRuntimeOptions {
  /** Kafka client id and the default consumer group prefix, e.g. `key-service`. */
  readonly service: string;
  readonly brokers: readonly string[];
  /** Prepended to every topic and group name: '' in production, a namespace in tests and demos. */
  readonly topicPrefix: string;
  readonly topicSettings: TopicSettings;
  /** The service's initialised data source (its schema holds the outbox and inbox). */
  readonly dataSource: DataSource;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Consumers with logical topic names; prefixes are applied here. */
  readonly consumers: readonly Omit<InboxConsumerOptions, 'topicPrefix'>[];
  readonly relay?: OutboxRelayOptions;
}

/**
 * Everything a service needs to take part in keyfleet's messaging, started and stopped as
 * one: topics provisioned, the idempotent producer, the outbox relay and the inbox
 * consumers. Stopping drains in reverse order (consumers, relay, producer).
 */
export class MessagingRuntime {
  private constructor(
    readonly publisher: MessagePublisher,
    readonly metrics: MessagingMetrics,
    private readonly relay: OutboxRelay,
    private readonly consumers: readonly InboxConsumer[],
    private readonly logger: Logger,
  ) {}

  static async start(options: MessagingRuntimeOptions): Promise<MessagingRuntime> {
    const logger = options.logger.child({ component: 'messaging' });
    const kafka = createKafkaClient({ brokers: options.brokers, clientId: options.service, logger });
    const metrics = new MessagingMetrics(options.registry);
    const created = await provisionTopics(
      kafka,
      ALL_TOPICS.map((t) => `${options.topicPrefix}${t}`),
      options.topicSettings,
    );
    if (created.length > 0) logger.info({ topics: created }, 'provisioned topics');
    const publisher = new MessagePublisher(kafka, metrics);
    await publisher.connect();
    const relay = new OutboxRelay(options.dataSource, publisher, metrics, logger, options.relay);
    relay.start();
    const consumers = options.consumers.map(
      (c) =>
        new InboxConsumer(kafka, options.dataSource, publisher, metrics, logger, {
          ...c,
          groupId: `${options.topicPrefix}${c.groupId}`,
          consumerName: c.consumerName ?? c.groupId,
          topics: c.topics.map((t) => `${options.topicPrefix}${t}`),
          topicPrefix: options.topicPrefix,
        }),
    );
    const runtime = new MessagingRuntime(publisher, metrics, relay, consumers, logger);
    try {
      for (const consumer of consumers) await consumer.start();
    } catch (err) {
      await runtime.stop();
      throw err;
    }
    logger.info({ consumers: options.consumers.map((c) => c.groupId) }, 'messaging started');
    return runtime;
  }

  /** Consumer health for `/health`: failed when a consumer stopped for good. */
  health(): { ok: boolean; detail?: string } {
    const broken = this.consumers.map((c) => c.health()).find((h) => !h.ok);
    return broken ?? { ok: true };
  }

  /** Messages waiting in the outbox. */
  backlog(): Promise<number> {
    return this.relay.backlog();
  }

  /** Resolves once every consumer has joined its group. */
  async ready(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.waitForJoin()));
  }

  async stop(): Promise<void> {
    for (const consumer of this.consumers) {
      await consumer.stop().catch((err: unknown) => this.logger.warn({ err }, 'consumer did not stop cleanly'));
    }
    await this.relay.stop();
    await this.publisher.disconnect();
    this.logger.info('messaging stopped');
  }
}

// Shared set-up of the messaging integration tests: a private schema, topic prefix and
// consumer groups per suite on the real broker and database (started by tools/infra/up.sh).
import { randomBytes } from 'node:crypto';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { DataSource, MigrationInterface, QueryRunner } from 'typeorm';
import { ALL_TOPICS, createMessage, dlqTopic, MessageTypes, type Message } from '@keyfleet/contracts';
import { createServiceDataSource, initializeServiceDataSource } from '@keyfleet/persistence';
import { createKafkaClient } from '../lib/kafka/kafka-client';
import { MessagePublisher } from '../lib/kafka/message-publisher';
import { provisionTopics } from '../lib/kafka/topic-provisioner';
import { MessagingMetrics } from '../lib/messaging.metrics';
import { MessagingTables1763800000000 } from '../lib/migrations/messaging-tables.migration';
import type { MessageHandler } from '../lib/inbox/inbox-consumer';

/** Reads a variable that tools/infra/up.sh writes to .cache/infra.env. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the integration tests through "npm run test:integration"`);
  return value;
}

/** The effect the test handlers apply: one row per application, deliberately without a unique key, so a double effect shows. */
export class TestEffects1763800000001 implements MigrationInterface {
  readonly name = 'TestEffects1763800000001';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE effects (message_id uuid NOT NULL, subject text NOT NULL, message_time timestamptz NOT NULL, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE effects`);
  }
}

/** A handler that records one effect row per message. */
export const recordEffect: MessageHandler = async (message, { em }) => {
  await em.query(`INSERT INTO effects (message_id, subject, message_time) VALUES ($1, $2, $3)`, [message.id, message.subject, message.time]);
};

/** `count` valid messages about `subject`s `s-0`, `s-1`, ... (`subjects` distinct aggregates). */
export function keyRegisteredMessages(count: number, subjects = 16): Message[] {
  return Array.from({ length: count }, (_, i) => {
    const alias = `s-${i % subjects}`;
    return createMessage({
      type: MessageTypes.KeyRegisteredV1,
      source: 'it-producer',
      subject: alias,
      actor: { kind: 'service', id: 'it-producer' },
      data: { alias, version: i + 1, keyType: 'aes-256', usage: ['encrypt-decrypt'], state: 'pending', label: `${alias}/v${i + 1}` },
    });
  });
}

export interface MessagingTestKit {
  readonly suite: string;
  readonly prefix: string;
  readonly schema: string;
  readonly url: string;
  readonly brokers: string[];
  readonly logger: pino.Logger;
  readonly registry: Registry;
  readonly metrics: MessagingMetrics;
  readonly kafka: ReturnType<typeof createKafkaClient>;
  readonly dataSource: DataSource;
  readonly publisher: MessagePublisher;
  topic(logical: string): string;
  effects(): Promise<{ total: number; distinct: number }>;
  metricValue(name: string, labels: Record<string, string>): Promise<number>;
  waitFor(what: string, condition: () => Promise<boolean>, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function createMessagingTestKit(suite: string): Promise<MessagingTestKit> {
  const id = randomBytes(4).toString('hex');
  const prefix = `it.${suite}.${id}.`;
  const schema = `it_${suite.replace(/[^a-z0-9]/g, '_')}_${id}`;
  const url = requireEnv('DATABASE_URL');
  const brokers = requireEnv('KAFKA_BROKERS').split(',');
  // Quiet by default: test b) stops the broker on purpose and kafkajs logs every reconnect as an error.
  const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'fatal', base: { suite } });
  const registry = new Registry();
  const metrics = new MessagingMetrics(registry);
  const kafka = createKafkaClient({ brokers, clientId: `it-${suite}`, logger });
  const dataSource = await initializeServiceDataSource(
    createServiceDataSource({
      url,
      schema,
      applicationName: `it-${suite}`,
      entities: [],
      migrations: [MessagingTables1763800000000, TestEffects1763800000001],
      poolSize: 8,
    }),
  );
  const topics = ALL_TOPICS.map((t) => `${prefix}${t}`);
  await provisionTopics(kafka, topics, { partitions: 3, replicationFactor: 1 });
  const publisher = new MessagePublisher(kafka, metrics);
  await publisher.connect();

  const kit: MessagingTestKit = {
    suite,
    prefix,
    schema,
    url,
    brokers,
    logger,
    registry,
    metrics,
    kafka,
    dataSource,
    publisher,
    topic: (logical) => `${prefix}${logical}`,
    async effects() {
      const [row] = await dataSource.query<{ total: number; distinct: number }[]>(
        `SELECT count(*)::int AS total, count(DISTINCT message_id)::int AS distinct FROM effects`,
      );
      return row ?? { total: 0, distinct: 0 };
    },
    async metricValue(name, labels) {
      const metric = registry.getSingleMetric(name);
      if (!metric) return 0;
      const { values } = await metric.get();
      return values
        .filter((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want))
        .reduce((sum, v) => sum + v.value, 0);
    },
    async waitFor(what, condition, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      await publisher.disconnect();
      const admin = kafka.admin();
      await admin.connect();
      await admin.deleteTopics({ topics: topics.flatMap((t) => [t, dlqTopic(t)]) }).catch(() => undefined);
      await admin.disconnect();
      await dataSource.query(`DROP SCHEMA "${schema}" CASCADE`);
      await dataSource.destroy();
    },
  };
  return kit;
}

// A consumer in its own process, for the crash test: with CRASH_AFTER_EFFECTS=1 it kills
// itself (SIGKILL: no clean-up, no offset commit) right after its first batch's effects
// committed and before the batch's offsets are committed.
import pino from 'pino';
import { Registry } from 'prom-client';
import { createServiceDataSource, initializeServiceDataSource } from '@keyfleet/persistence';
import { InboxConsumer } from '../lib/inbox/inbox-consumer';
import { createKafkaClient } from '../lib/kafka/kafka-client';
import { MessagePublisher } from '../lib/kafka/message-publisher';
import { MessagingMetrics } from '../lib/messaging.metrics';
import { MessagingTables1763800000000 } from '../lib/migrations/messaging-tables.migration';
import { recordEffect, requireEnv, TestEffects1763800000001 } from './messaging.test-kit';

async function main(): Promise<void> {
  const logger = pino({ level: 'warn' });
  const metrics = new MessagingMetrics(new Registry());
  const kafka = createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: 'it-crash', logger });
  const dataSource = await initializeServiceDataSource(
    createServiceDataSource({
      url: requireEnv('DATABASE_URL'),
      schema: requireEnv('IT_SCHEMA'),
      applicationName: 'it-crash',
      entities: [],
      migrations: [MessagingTables1763800000000, TestEffects1763800000001],
    }),
  );
  const publisher = new MessagePublisher(kafka, metrics);
  await publisher.connect();
  const crash = process.env['CRASH_AFTER_EFFECTS'] === '1';
  const consumer = new InboxConsumer(kafka, dataSource, publisher, metrics, logger, {
    groupId: requireEnv('IT_GROUP'),
    topics: [requireEnv('IT_TOPIC')],
    handler: recordEffect,
    partitionsConsumedConcurrently: 1,
    onEffectsCommitted: (messages) => {
      if (crash && messages.length > 0) {
        process.stdout.write(`crashing after ${messages.length} effects\n`);
        process.kill(process.pid, 'SIGKILL');
      }
    },
  });
  await consumer.start();
  process.stdout.write('consuming\n');
  process.once('SIGTERM', () => {
    void consumer
      .stop()
      .then(() => publisher.disconnect())
      .then(() => dataSource.destroy())
      .then(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});

import { randomBytes } from 'node:crypto';
import { ConfigResourceTypes } from 'kafkajs';
import pino from 'pino';
import { Registry } from 'prom-client';
import { dlqTopic } from '@keyfleet/contracts';
import { requireEnv } from '../../testing/messaging.test-kit';
import { MessagingMetrics } from '../messaging.metrics';
import { createKafkaClient } from './kafka-client';
import { MessagePublisher } from './message-publisher';
import { provisionTopics } from './topic-provisioner';

describe('provisionTopics and an uncompressed publisher against real Kafka', () => {
  const prefix = `it.prov${randomBytes(4).toString('hex')}.`;
  const hot = `${prefix}hot`;
  const plain = `${prefix}plain`;
  const kafka = createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: 'it-provision', logger: pino({ level: 'fatal' }) });
  const admin = kafka.admin();

  beforeAll(() => admin.connect());
  afterAll(async () => {
    await admin.deleteTopics({ topics: [hot, plain, dlqTopic(hot), dlqTopic(plain)] }).catch(() => undefined);
    await admin.disconnect();
  });

  const compressionOf = async (topic: string) => {
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: ['compression.type'] }],
    });
    return described.resources[0]?.configEntries.find((e) => e.configName === 'compression.type')?.configValue;
  };

  it('creates topics and their dead-letter topics with the configuration given per topic, and leaves existing ones alone', async () => {
    const settings = { partitions: 2, replicationFactor: 1, configs: { [hot]: { 'compression.type': 'gzip' } } };
    expect((await provisionTopics(kafka, [hot, plain], settings)).sort()).toEqual([dlqTopic(hot), dlqTopic(plain), hot, plain].sort());
    expect(await compressionOf(hot)).toBe('gzip');
    // The broker default (keep what the producer sent) for the rest.
    expect(await compressionOf(plain)).toBe('producer');
    expect(await compressionOf(dlqTopic(hot))).toBe('producer');
    expect(await provisionTopics(kafka, [hot, plain], { ...settings, configs: { [plain]: { 'compression.type': 'zstd' } } })).toEqual([]);
    expect(await compressionOf(plain)).toBe('producer');
  });

  // gzip is the one codec kafkajs reads without add-ons: a topic the broker compressed with lz4
  // or zstd would crash every kafkajs consumer of it (this test hung with lz4).
  it('returns only once every topic has a leader, also when another process creates the same topics at the same moment', async () => {
    // Two services starting together: each may create some of the topics and find the rest
    // already made by the other; kafkajs then skips its wait for leaders.
    const many = Array.from({ length: 12 }, (_, i) => `${prefix}race-${i}`);
    const provisionThenRead = async () => {
      await provisionTopics(kafka, many, { partitions: 3, replicationFactor: 1 });
      // What a client does next (the CLI reads end offsets): kafkajs gives up at once when a
      // partition has no leader yet.
      return Promise.all([...many, ...many.map(dlqTopic)].map((t) => admin.fetchTopicOffsets(t)));
    };
    try {
      const [first, second] = await Promise.all([provisionThenRead(), provisionThenRead()]);
      expect(first).toHaveLength(24);
      expect(second.flat().map((p) => p.offset)).toEqual(Array.from({ length: 72 }, () => '0'));
    } finally {
      await admin.deleteTopics({ topics: [...many, ...many.map(dlqTopic)] }).catch(() => undefined);
    }
  });

  it('delivers what an uncompressed publisher sends to a topic the broker compresses with gzip', async () => {
    const publisher = new MessagePublisher(kafka, new MessagingMetrics(new Registry()), { compression: 'none' });
    await publisher.connect();
    const values = Array.from({ length: 50 }, (_, i) => `record ${i} ${randomBytes(8).toString('hex')}`);
    try {
      await publisher.publish(values.map((v, i) => ({ topic: hot, key: `k${i % 5}`, value: Buffer.from(v) })));
    } finally {
      await publisher.disconnect();
    }
    const seen: string[] = [];
    const consumer = kafka.consumer({ groupId: `${prefix}reader` });
    await consumer.connect();
    await consumer.subscribe({ topic: hot, fromBeginning: true });
    let allSeen!: () => void;
    const done = new Promise<void>((resolve, reject) => {
      allSeen = resolve;
      setTimeout(() => reject(new Error(`${seen.length} of ${values.length} records read in 30 s`)), 30_000).unref();
    });
    await consumer.run({
      eachMessage: ({ message }) => {
        seen.push(message.value?.toString() ?? '');
        if (seen.length === values.length) allSeen();
        return Promise.resolve();
      },
    });
    try {
      await done;
    } finally {
      await consumer.disconnect();
    }
    expect(seen.sort()).toEqual([...values].sort());
  });
});

import { randomBytes } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import pino from 'pino';
import { Registry } from 'prom-client';
import { requireEnv } from '../../testing/messaging.test-kit';
import { MessagingExceptionCode } from '../messaging.exception';
import { MessagingMetrics } from '../messaging.metrics';
import { createKafkaClient } from './kafka-client';
import type { OutgoingRecord } from './message-publisher';
import { provisionTopics } from './topic-provisioner';
import { WorkerPublisher } from './worker-publisher';

/** Reads `count` records of `topic` from the beginning with a fresh group. */
async function readRecords(kafka: ReturnType<typeof createKafkaClient>, topic: string, count: number): Promise<OutgoingRecord[]> {
  const seen: OutgoingRecord[] = [];
  const reader = kafka.consumer({ groupId: `${topic}.check-${Date.now()}` });
  await reader.connect();
  await reader.subscribe({ topic, fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      seen.push({ topic, key: String(message.key), value: message.value ?? Buffer.alloc(0), ...(Object.keys(headers).length ? { headers } : {}) });
    },
  });
  try {
    const deadline = Date.now() + 30_000;
    while (seen.length < count) {
      if (Date.now() > deadline) throw new Error(`timed out with ${seen.length} of ${count} records of ${topic}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return seen;
  } finally {
    await reader.disconnect();
  }
}

describe('WorkerPublisher against real Kafka', () => {
  const prefix = `it.wpub${randomBytes(4).toString('hex')}.`;
  const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'fatal' });
  const brokers = requireEnv('KAFKA_BROKERS').split(',');
  const kafka = createKafkaClient({ brokers, clientId: 'it-worker-publisher', logger });
  const registry = new Registry();
  // The publisher's own error entries; kafkajs's (client: kafkajs) vary with the broker, which
  // other suites restart meanwhile.
  const errors: string[] = [];
  const errorLog = pino(
    { level: 'error' },
    {
      write: (line: string) => {
        const entry = JSON.parse(line) as { msg: string; client?: string };
        if (entry.client === undefined) errors.push(entry.msg);
      },
    },
  );
  const sut = new WorkerPublisher({ kafka: { brokers, clientId: 'it-worker-publisher' }, metrics: new MessagingMetrics(registry), logger: errorLog });
  const topics = [`${prefix}ops`, `${prefix}events`];
  const published = async (topic: string) => ((await registry.getSingleMetric('keyfleet_messages_published_total')?.get())?.values ?? []).find((v) => v.labels['topic'] === topic)?.value ?? 0;

  beforeAll(async () => {
    await provisionTopics(kafka, topics, { partitions: 3, replicationFactor: 1 });
  });

  afterAll(async () => {
    await sut.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  });

  it('refuses to publish before it is connected', async () => {
    await expect(sut.publish([{ topic: topics[0] as string, key: 'k', value: Buffer.from('x') }])).rejects.toMatchObject({ code: MessagingExceptionCode.NotRunning });
  });

  it('publishes records of two topics with their keys, values and headers, and counts them per topic', async () => {
    await sut.connect();
    // Values that are views into one larger buffer, as Node's pooled small Buffers are.
    const slab = Buffer.from(randomBytes(4_096));
    const records: OutgoingRecord[] = Array.from({ length: 300 }, (_, i) => ({
      topic: topics[i % 2] as string,
      key: `alias-${i % 7}`,
      value: slab.subarray(i * 10, i * 10 + 10),
      ...(i % 3 === 0 ? { headers: { 'keyfleet-id': `id-${i}` } } : {}),
    }));

    await sut.publish(records);

    for (const topic of topics) {
      const sent = records.filter((r) => r.topic === topic);
      const read = await readRecords(kafka, topic, sent.length);
      const text = (r: OutgoingRecord) => `${r.key}|${r.value.toString('hex')}|${JSON.stringify(r.headers ?? {})}`;
      expect(read.map(text).sort()).toEqual(sent.map(text).sort());
      expect(await published(topic)).toBe(150);
    }
  });

  it('fails the publish in hand when its thread stops, and a new connect starts another thread that publishes', async () => {
    const thread = (sut as unknown as { thread: { worker: Worker } }).thread;
    const inHand = sut.publish([{ topic: topics[0] as string, key: 'k', value: Buffer.from('lost or not') }]).catch((err: unknown) => err);
    await thread.worker.terminate();

    expect(await inHand).toMatchObject({ code: MessagingExceptionCode.PublishFailed, message: expect.stringContaining('publisher thread stopped') });
    expect(errors).toEqual(['the Kafka publisher thread stopped; what it had in hand failed, and the next connect starts another']);
    await expect(sut.publish([{ topic: topics[0] as string, key: 'k', value: Buffer.from('x') }])).rejects.toMatchObject({ code: MessagingExceptionCode.NotRunning });
    await sut.connect();
    await sut.publish([{ topic: topics[1] as string, key: 'after', value: Buffer.from('restarted') }]);
    expect(await published(topics[1] as string)).toBe(151);
  });

  it('fails to connect to a broker that is not there, with kafkajs reason as the cause and its log entries in the service log', async () => {
    const lines: string[] = [];
    const capture = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const lonely = new WorkerPublisher({
      kafka: { brokers: ['127.0.0.1:1'], clientId: 'it-nowhere', retry: { initialRetryTime: 10, maxRetryTime: 20, retries: 1 } },
      metrics: new MessagingMetrics(new Registry()),
      logger: capture,
    });
    try {
      const failure = await lonely.connect().catch((err: unknown) => err);

      expect(failure).toMatchObject({ code: MessagingExceptionCode.PublishFailed, message: 'PUBLISH_FAILED: connect failed in the publisher thread' });
      expect((failure as Error).cause).toMatchObject({ name: expect.stringMatching(/^KafkaJS/) });
      expect(lines.some((l) => (JSON.parse(l) as { client?: string }).client === 'kafkajs')).toBe(true);
    } finally {
      await lonely.disconnect();
    }
  });

  it('reports a thread that cannot start, with its reason', async () => {
    // kafkajs refuses an idempotent producer without retries when the thread creates it.
    const broken = new WorkerPublisher({
      kafka: { brokers, clientId: 'it-broken', retry: { initialRetryTime: 10, maxRetryTime: 20, retries: 0 } },
      metrics: new MessagingMetrics(new Registry()),
      logger,
    });

    await expect(broken.connect()).rejects.toMatchObject({
      code: MessagingExceptionCode.PublishFailed,
      message: expect.stringMatching(/the publisher thread stopped \(KafkaJSNonRetriableError: Idempotent producer must allow retries/),
    });
    await expect(broken.publish([{ topic: topics[0] as string, key: 'k', value: Buffer.from('x') }])).rejects.toMatchObject({ code: MessagingExceptionCode.NotRunning });
    await broken.disconnect();
  });
});

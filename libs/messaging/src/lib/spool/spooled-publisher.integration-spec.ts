import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pino from 'pino';
import { Registry } from 'prom-client';
import { MessageTypes, Topics, createMessage, decodeMessage, dlqTopic, encodeMessage } from '@keyfleet/contracts';
import { requireEnv } from '../../testing/messaging.test-kit';
import { createKafkaClient } from '../kafka/kafka-client';
import { MessagePublisher, type OutgoingRecord } from '../kafka/message-publisher';
import { provisionTopics } from '../kafka/topic-provisioner';
import { MessagingMetrics } from '../messaging.metrics';
import { SpooledPublisher } from './spooled-publisher';

const kafkaScript = join(__dirname, '../../../../../tools/infra/kafka.sh');
const run = promisify(execFile);
const TOTAL = 2_000;

/** Polls `condition`; on time-out the error carries `state()`, what the test knew then. */
async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 30_000, state?: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${state ? ` (${await state()})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One audit record as the crypto gateway emits it. */
function auditRecord(topic: string, i: number): { id: string; record: OutgoingRecord } {
  const keyAlias = `alias-${i % 8}`;
  const message = createMessage({
    type: MessageTypes.CryptoOperationRecordedV1,
    source: 'crypto-gateway',
    subject: keyAlias,
    actor: { kind: 'service', id: 'crypto-gateway' },
    data: { operation: 'encrypt', caller: 'it-app', keyAlias, keyVersion: 1, clusterId: 'c1', outcome: 'ok', latencyMicros: 250, attempts: 1, items: 1 },
  });
  return { id: message.id, record: { topic, key: keyAlias, value: encodeMessage(message), headers: { 'keyfleet-id': message.id } } };
}

describe('SpooledPublisher against real Kafka', () => {
  const prefix = `it.spool${randomBytes(4).toString('hex')}.`;
  const topic = `${prefix}${Topics.CryptoOps}`;
  const logger = pino({ level: process.env['TEST_LOG_LEVEL'] ?? 'fatal' });
  const registry = new Registry();
  const kafka = createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: 'it-spool', logger });
  const publisher = new MessagePublisher(kafka, new MessagingMetrics(registry));
  let spoolDir: string;
  let sut: SpooledPublisher;

  beforeAll(async () => {
    await provisionTopics(kafka, [topic], { partitions: 3, replicationFactor: 1 });
    await publisher.connect();
    spoolDir = await mkdtemp(join(tmpdir(), 'it-spool-'));
    sut = new SpooledPublisher({
      publisher,
      logger,
      metrics: registry,
      spoolDir,
      name: 'crypto-ops',
      maxBatch: 200,
      lingerMs: 20,
      maxBuffered: 500,
      backoff: { baseMs: 200, capMs: 1_000 },
    });
    await sut.start();
  });

  afterAll(async () => {
    await sut.stop(1_000);
    await publisher.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic, dlqTopic(topic)] }).catch(() => undefined);
    await admin.disconnect();
    await rm(spoolDir, { recursive: true, force: true });
  });

  it('delivers every one of 2,000 records although the broker is stopped while they are submitted', async () => {
    const records = Array.from({ length: TOTAL }, (_, i) => auditRecord(topic, i));
    const submit = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        sut.submit(records[i]!.record);
        // A steady stream rather than one burst, so batches form by linger as well as by size.
        if (i % 50 === 49) await new Promise((r) => setTimeout(r, 5));
      }
    };
    const metric = async (name: string, labels: Record<string, string> = {}) =>
      ((await registry.getSingleMetric(name)?.get())?.values ?? [])
        .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
        .reduce((sum, v) => sum + v.value, 0);
    const published = () => metric('keyfleet_spool_published_total');
    const spoolLines = async () => (await readFile(join(spoolDir, 'crypto-ops.spool.jsonl'), 'utf8')).split('\n').filter(Boolean).length;

    await submit(0, 600);
    await waitFor('the first records on Kafka', async () => (await published()) >= 600);
    const stopping = run('bash', [kafkaScript, 'stop']);
    try {
      // Records submitted while the broker shuts down and while it is down.
      await submit(600, 1_000);
      await stopping;
      await submit(1_000, 1_300);
      // kafkajs gives up after its own few retries; from then on batches go to the spool.
      await waitFor('a failed publish', async () => (await metric('keyfleet_spool_failures_total', { kind: 'publish' })) > 0);
      await submit(1_300, 1_600);
      await waitFor('records in the spool file', async () => (await spoolLines()) > 0 && sut.spooled > 0);
      expect(sut.accepting).toBe(true);
    } finally {
      await stopping.catch(() => undefined);
      await run('bash', [kafkaScript, 'start']);
    }
    await submit(1_600, TOTAL);

    const state = async () =>
      `spooled ${sut.spooled}, published ${await published()}, publish failures ${await metric('keyfleet_spool_failures_total', { kind: 'publish' })}, ` +
      `producer renewals ${await metric('keyfleet_producer_renewals_total')}`;
    // The last records may still be in memory when the spool is empty: they follow it.
    await waitFor('the spool to drain and every record to be published', async () => sut.spooled === 0 && (await spoolLines()) === 0 && (await published()) >= TOTAL, 60_000, state);
    const ids = await readIds(kafka, `${prefix}check-${Date.now()}`, topic, TOTAL);
    expect(ids.size).toBe(TOTAL);
    expect([...ids].sort()).toEqual(records.map((r) => r.id).sort());
  });
});

/** Reads `topic` from the beginning with a fresh group until `count` distinct message ids were seen (duplicates allowed). */
async function readIds(kafka: ReturnType<typeof createKafkaClient>, groupId: string, topic: string, count: number): Promise<Set<string>> {
  const ids = new Set<string>();
  const reader = kafka.consumer({ groupId });
  await reader.connect();
  await reader.subscribe({ topic, fromBeginning: true });
  await reader.run({
    eachMessage: async ({ message }) => {
      const decoded = message.value ? decodeMessage(message.value) : undefined;
      if (decoded?.ok && decoded.message.type === MessageTypes.CryptoOperationRecordedV1) ids.add(decoded.message.id);
    },
  });
  try {
    await waitFor(`${count} distinct ids on ${topic}`, () => ids.size >= count, 30_000);
    // Anything more than the expected records would show up within a moment after them.
    await new Promise((r) => setTimeout(r, 500));
    return ids;
  } finally {
    await reader.disconnect();
  }
}

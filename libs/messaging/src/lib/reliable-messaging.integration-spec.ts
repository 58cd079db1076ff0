import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { KafkaMessage } from 'kafkajs';
import { Topics, createMessage, dlqTopic, encodeMessage, MessageTypes } from '@keyfleet/contracts';
import {
  createMessagingTestKit,
  keyRegisteredMessages,
  recordEffect,
  type MessagingTestKit,
} from '../testing/messaging.test-kit';
import { DeadLetterHeaders } from './inbox/dead-letter';
import { InboxConsumer, type MessageHandler } from './inbox/inbox-consumer';
import { OutboxRelay } from './outbox/outbox-relay';
import { appendToOutbox } from './outbox/outbox-writer';

const kafkaScript = join(__dirname, '../../../../tools/infra/kafka.sh');

async function writeToOutbox(kit: MessagingTestKit, count: number, perTransaction = 100): Promise<void> {
  const messages = keyRegisteredMessages(count);
  for (let i = 0; i < messages.length; i += perTransaction) {
    await kit.dataSource.transaction((em) => appendToOutbox(em, messages.slice(i, i + perTransaction), kit.prefix));
  }
}

function consumer(kit: MessagingTestKit, group: string, handler: MessageHandler = recordEffect): InboxConsumer {
  return new InboxConsumer(kit.kafka, kit.dataSource, kit.publisher, kit.metrics, kit.logger, {
    groupId: `${kit.prefix}${group}`,
    topics: [kit.topic(Topics.KeyEvents)],
    handler,
    retryBackoff: { baseMs: 10, capMs: 50 },
  });
}

describe('reliable messaging against real Kafka and PostgreSQL', () => {
  let kit: MessagingTestKit;
  let relay: OutboxRelay;
  const running: InboxConsumer[] = [];

  beforeEach(async () => {
    kit = await createMessagingTestKit(`rm${Math.floor(Math.random() * 1e6)}`);
    relay = new OutboxRelay(kit.dataSource, kit.publisher, kit.metrics, kit.logger, {
      backoff: { baseMs: 100, capMs: 1_000 },
    });
  });

  afterEach(async () => {
    await relay.stop();
    await Promise.all(running.splice(0).map((c) => c.stop()));
    await kit.close();
  });

  async function startConsumer(group: string, handler?: MessageHandler): Promise<InboxConsumer> {
    const sut = consumer(kit, group, handler);
    running.push(sut);
    await sut.start();
    return sut;
  }

  it('a) applies each of N outbox events exactly once, also when the broker redelivers them', async () => {
    const n = 1_000;
    await writeToOutbox(kit, n);
    relay.start();
    const first = await startConsumer('a');
    await kit.waitFor(`${n} effects`, async () => (await kit.effects()).total >= n);
    expect(await kit.effects()).toEqual({ total: n, distinct: n });
    expect(await relay.backlog()).toBe(0);

    // Redelivery: rewind the group to the beginning; every message comes again.
    await first.stop();
    running.splice(running.indexOf(first), 1);
    const admin = kit.kafka.admin();
    await admin.connect();
    await admin.resetOffsets({ groupId: `${kit.prefix}a`, topic: kit.topic(Topics.KeyEvents), earliest: true });
    await admin.disconnect();
    await startConsumer('a');
    await kit.waitFor('all redelivered messages seen as duplicates', async () =>
      (await kit.metricValue('keyfleet_messages_consumed_total', { outcome: 'duplicate' })) >= n,
    );

    expect(await kit.effects()).toEqual({ total: n, distinct: n });
    expect(await kit.metricValue('keyfleet_messages_consumed_total', { outcome: 'processed' })).toBe(n);
    expect(await kit.metricValue('keyfleet_messages_consumed_total', { outcome: 'duplicate' })).toBe(n);
  });

  it('b) loses nothing and applies nothing twice when the broker is down while events are written', async () => {
    const n = 300;
    relay.start();
    await startConsumer('b');
    await writeToOutbox(kit, 50);
    await kit.waitFor('the first 50 effects', async () => (await kit.effects()).total >= 50);

    execFileSync('bash', [kafkaScript, 'stop'], { stdio: 'inherit' });
    try {
      await writeToOutbox(kit, n - 50);
      // The relay keeps failing and backing off; the backlog waits in Postgres.
      await new Promise((r) => setTimeout(r, 2_000));
      expect(await relay.backlog()).toBe(n - 50);
    } finally {
      execFileSync('bash', [kafkaScript, 'start'], { stdio: 'inherit' });
    }

    await kit.waitFor(`${n} effects after the broker came back`, async () => (await kit.effects()).total >= n, 120_000);
    expect(await kit.effects()).toEqual({ total: n, distinct: n });
    expect(await relay.backlog()).toBe(0);
  });

  it('c) dead-letters poison messages with their reason and processes the messages after them', async () => {
    const topic = kit.topic(Topics.KeyEvents);
    const good = keyRegisteredMessages(10, 1); // one subject: one partition, strict order
    const poisonForHandler = createMessage({
      type: MessageTypes.KeyRegisteredV1,
      source: 'it',
      subject: 's-0',
      actor: { kind: 'service', id: 'it' },
      data: { alias: 'poison', version: 1, keyType: 'aes-256', usage: ['mac'], state: 'pending', label: 'poison/v1' },
    });
    const invalidData = { ...good[0]!, id: createMessage({ ...poisonForHandler }).id, data: { alias: 'NOT VALID' } };
    const records = [
      ...good.slice(0, 5).map((m) => ({ key: 's-0', value: encodeMessage(m) })),
      { key: 's-0', value: Buffer.from('\u0000\u0001 definitely not json') },
      { key: 's-0', value: Buffer.from(JSON.stringify(invalidData)) },
      { key: 's-0', value: encodeMessage(poisonForHandler) },
      ...good.slice(5).map((m) => ({ key: 's-0', value: encodeMessage(m) })),
    ];
    const rejectPoison: MessageHandler = async (message, ctx) => {
      if (message.type === MessageTypes.KeyRegisteredV1 && message.data.alias === 'poison') {
        throw new Error('key alias "poison" is refused by this handler');
      }
      await recordEffect(message, ctx);
    };
    await kit.publisher.publish(records.map((r) => ({ topic, ...r })));
    await startConsumer('c', rejectPoison);

    await kit.waitFor('10 effects', async () => (await kit.effects()).total >= 10);
    await kit.waitFor('3 dead letters', async () =>
      (await kit.metricValue('keyfleet_messages_dead_lettered_total', {})) >= 3,
    );
    expect(await kit.effects()).toEqual({ total: 10, distinct: 10 });

    const dead = await readAll(kit, dlqTopic(topic), 3);
    const reasons = dead.map((m) => ({
      code: m.headers?.[DeadLetterHeaders.ReasonCode]?.toString(),
      reason: m.headers?.[DeadLetterHeaders.Reason]?.toString(),
      source: m.headers?.[DeadLetterHeaders.SourceTopic]?.toString(),
      attempts: m.headers?.[DeadLetterHeaders.Attempts]?.toString(),
    }));
    expect(reasons).toEqual([
      { code: 'MALFORMED_JSON', reason: 'MALFORMED_JSON: message is not valid JSON', source: topic, attempts: '1' },
      { code: 'INVALID_DATA', reason: expect.stringMatching(/^INVALID_DATA at data\.alias: /), source: topic, attempts: '1' },
      { code: 'HANDLER_FAILED', reason: 'Error: key alias "poison" is refused by this handler', source: topic, attempts: '3' },
    ]);
    expect(dead[0]?.value?.toString()).toBe('\u0000\u0001 definitely not json');
  });
});

/** Reads exactly `count` records of `topic` from the beginning, with a throwaway group. */
async function readAll(kit: MessagingTestKit, topic: string, count: number): Promise<KafkaMessage[]> {
  const reader = kit.kafka.consumer({ groupId: `${kit.prefix}reader-${Date.now()}` });
  const seen: KafkaMessage[] = [];
  await reader.connect();
  await reader.subscribe({ topic, fromBeginning: true });
  await reader.run({ eachMessage: async ({ message }) => void seen.push(message) });
  try {
    await kit.waitFor(`${count} records on ${topic}`, async () => seen.length >= count);
    return seen.sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)));
  } finally {
    await reader.disconnect();
  }
}

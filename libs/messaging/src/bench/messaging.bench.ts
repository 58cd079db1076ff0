// End-to-end messaging benchmark: events/s and latency from outbox insert to consumer
// effect, against a baseline of plain kafkajs produce -> consume (no database) measured in
// the same run on the same broker. Writes JSON and Markdown results to BENCH_OUT.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Topics, encodeMessage } from '@keyfleet/contracts';
import { InboxConsumer } from '../lib/inbox/inbox-consumer';
import { OutboxRelay } from '../lib/outbox/outbox-relay';
import { appendToOutbox } from '../lib/outbox/outbox-writer';
import { createMessagingTestKit, keyRegisteredMessages, recordEffect, type MessagingTestKit } from '../testing/messaging.test-kit';

const N = Number(process.env['BENCH_EVENTS'] ?? 20_000);
const WRITERS = 4;
const PER_TRANSACTION = 100;

interface Result {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Plain kafkajs: produce N records in batches, consume them with eachBatch, no database. */
async function baseline(kit: MessagingTestKit, n: number): Promise<Result> {
  const topic = kit.topic(Topics.CryptoOps);
  const payloads = keyRegisteredMessages(n).map((m) => encodeMessage(m));
  const latencies: number[] = [];
  const consumer = kit.kafka.consumer({ groupId: `${kit.prefix}bench-baseline`, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let finished!: () => void;
  const allSeen = new Promise<void>((r) => (finished = r));
  await consumer.run({
    partitionsConsumedConcurrently: 3,
    eachBatch: ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) latencies.push(now - Number(m.headers?.['sent-at']?.toString()));
      seen += batch.messages.length;
      if (seen >= n) finished();
      return Promise.resolve();
    },
  });
  const started = Date.now();
  for (let i = 0; i < n; i += 500) {
    const sentAt = String(Date.now());
    await kit.publisher.publish(
      payloads.slice(i, i + 500).map((value, j) => ({ topic, key: `s-${(i + j) % 16}`, value, headers: { 'sent-at': sentAt } })),
    );
  }
  await allSeen;
  const seconds = (Date.now() - started) / 1000;
  await consumer.disconnect();
  latencies.sort((a, b) => a - b);
  return { events: n, seconds, eventsPerSecond: n / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

/** keyfleet's pipeline: outbox insert (4 writers) -> relay -> Kafka -> inbox consumer -> effect row. */
async function pipeline(kit: MessagingTestKit, n: number, label: string): Promise<Result> {
  const relay = new OutboxRelay(kit.dataSource, kit.publisher, kit.metrics, kit.logger);
  const consumer = new InboxConsumer(kit.kafka, kit.dataSource, kit.publisher, kit.metrics, kit.logger, {
    groupId: `${kit.prefix}bench-${label}`,
    consumerName: `bench-${label}`,
    topics: [kit.topic(Topics.KeyEvents)],
    handler: recordEffect,
  });
  await kit.dataSource.query('TRUNCATE effects');
  await consumer.start();
  await consumer.waitForJoin();
  relay.start();
  const messages = keyRegisteredMessages(n);
  const started = Date.now();
  await Promise.all(
    Array.from({ length: WRITERS }, async (_, w) => {
      for (let i = w * PER_TRANSACTION; i < n; i += WRITERS * PER_TRANSACTION) {
        await kit.dataSource.transaction((em) => appendToOutbox(em, messages.slice(i, i + PER_TRANSACTION), kit.prefix));
      }
    }),
  );
  await kit.waitFor(`${n} effects`, async () => (await kit.effects()).total >= n, 600_000);
  const seconds = (Date.now() - started) / 1000;
  const [latency] = await kit.dataSource.query<{ p50: number; p99: number }[]>(
    `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
       FROM (SELECT extract(epoch FROM (e.applied_at - o.created_at)) * 1000 AS ms
               FROM effects e JOIN outbox o ON o.message_id = e.message_id) t`,
  );
  await consumer.stop();
  await relay.stop();
  await kit.dataSource.query('DELETE FROM outbox');
  return { events: n, seconds, eventsPerSecond: n / seconds, p50Ms: Number(latency?.p50), p99Ms: Number(latency?.p99) };
}

async function main(): Promise<void> {
  const out = process.env['BENCH_OUT'] ?? join(process.cwd(), '.cache/bench');
  const kit = await createMessagingTestKit('bench');
  try {
    process.stdout.write(`[bench] warm-up\n`);
    await baseline(kit, 2_000);
    await pipeline(kit, 2_000, 'warmup');
    process.stdout.write(`[bench] baseline: plain kafkajs produce -> consume, ${N} events\n`);
    const base = await baseline(kit, N);
    process.stdout.write(`[bench] keyfleet: outbox -> relay -> Kafka -> inbox -> effect, ${N} events\n`);
    const keyfleet = await pipeline(kit, N, 'run');
    const results = {
      benchmark: 'messaging end to end',
      date: new Date().toISOString(),
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      events: N,
      baseline: base,
      keyfleet,
      throughputRatio: keyfleet.eventsPerSecond / base.eventsPerSecond,
    };
    const fmt = (r: Result) =>
      `| ${r.events} | ${r.seconds.toFixed(2)} | ${Math.round(r.eventsPerSecond)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} |`;
    const markdown = [
      `# Messaging benchmark (${results.date})`,
      '',
      `${results.machine.cpus} cores, Node ${results.machine.node}, one local Kafka broker, local PostgreSQL.`,
      '',
      '| pipeline | events | seconds | events/s | p50 ms | p99 ms |',
      '| --- | --- | --- | --- | --- | --- |',
      `| baseline: kafkajs produce -> consume ${fmt(base)}`,
      `| keyfleet: outbox -> relay -> Kafka -> inbox + effect ${fmt(keyfleet)}`,
      '',
      `keyfleet / baseline throughput: ${results.throughputRatio.toFixed(2)}`,
      '',
    ].join('\n');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'messaging.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(out, 'messaging.md'), markdown);
    process.stdout.write(`${markdown}\n[bench] results written to ${out}/messaging.{json,md}\n`);
  } finally {
    await kit.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

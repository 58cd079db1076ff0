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
const PACED_RATE = Number(process.env['BENCH_PACED_RATE'] ?? 1_000);
const PACED_SECONDS = 10;
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

/** Chunks of `n` items as a burst (one chunk per `burstChunk`) or paced at `rate`/s in 20 ms ticks. */
async function feed(n: number, rate: number | undefined, burstChunk: number, send: (from: number, to: number) => Promise<void>) {
  const tickMs = 20;
  const chunk = rate === undefined ? burstChunk : Math.max(1, Math.round((rate * tickMs) / 1000));
  const started = Date.now();
  for (let i = 0, tick = 0; i < n; i += chunk, tick += 1) {
    if (rate !== undefined) {
      const wait = started + tick * tickMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    await send(i, Math.min(n, i + chunk));
  }
}

/** Plain kafkajs: produce N records in batches, consume them with eachBatch, no database. */
async function baseline(kit: MessagingTestKit, n: number, rate?: number): Promise<Result> {
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
  await feed(n, rate, 500, async (from, to) => {
    const sentAt = String(Date.now());
    await kit.publisher.publish(
      payloads.slice(from, to).map((value, j) => ({ topic, key: `s-${(from + j) % 16}`, value, headers: { 'sent-at': sentAt } })),
    );
  });
  await allSeen;
  const seconds = (Date.now() - started) / 1000;
  await consumer.disconnect();
  latencies.sort((a, b) => a - b);
  return { events: n, seconds, eventsPerSecond: n / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

/** keyfleet's pipeline: outbox insert (4 writers) -> relay -> Kafka -> inbox consumer -> effect row. */
async function pipeline(kit: MessagingTestKit, n: number, label: string, rate?: number): Promise<Result> {
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
  if (rate === undefined) {
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        for (let i = w * PER_TRANSACTION; i < n; i += WRITERS * PER_TRANSACTION) {
          await kit.dataSource.transaction((em) => appendToOutbox(em, messages.slice(i, i + PER_TRANSACTION), kit.prefix));
        }
      }),
    );
  } else {
    await feed(n, rate, PER_TRANSACTION, (from, to) =>
      kit.dataSource.transaction((em) => appendToOutbox(em, messages.slice(from, to), kit.prefix)),
    );
  }
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

/** Each scenario on its own topics, schema and groups, so no run consumes another's messages. */
async function isolated<T>(run: (kit: MessagingTestKit) => Promise<T>): Promise<T> {
  const kit = await createMessagingTestKit('bench');
  try {
    return await run(kit);
  } finally {
    await kit.close();
  }
}

async function main(): Promise<void> {
  const out = process.env['BENCH_OUT'] ?? join(process.cwd(), '.cache/bench');
  {
    process.stdout.write(`[bench] warm-up\n`);
    await isolated((kit) => baseline(kit, 2_000));
    await isolated((kit) => pipeline(kit, 2_000, 'warmup'));
    process.stdout.write(`[bench] throughput: ${N} events as fast as possible\n`);
    const base = await isolated((kit) => baseline(kit, N));
    const keyfleet = await isolated((kit) => pipeline(kit, N, 'run'));
    process.stdout.write(`[bench] latency: ${PACED_RATE} events/s for ${PACED_SECONDS} s\n`);
    const basePaced = await isolated((kit) => baseline(kit, PACED_RATE * PACED_SECONDS, PACED_RATE));
    const keyfleetPaced = await isolated((kit) => pipeline(kit, PACED_RATE * PACED_SECONDS, 'paced', PACED_RATE));
    const results = {
      benchmark: 'messaging end to end',
      date: new Date().toISOString(),
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
      events: N,
      baseline: base,
      keyfleet,
      throughputRatio: keyfleet.eventsPerSecond / base.eventsPerSecond,
      paced: { ratePerSecond: PACED_RATE, seconds: PACED_SECONDS, baseline: basePaced, keyfleet: keyfleetPaced },
    };
    const fmt = (r: Result) =>
      `| ${r.events} | ${r.seconds.toFixed(2)} | ${Math.round(r.eventsPerSecond)} | ${r.p50Ms.toFixed(1)} | ${r.p99Ms.toFixed(1)} |`;
    const markdown = [
      `# Messaging benchmark (${results.date})`,
      '',
      `${results.machine.cpus} cores, Node ${results.machine.node}, one local Kafka broker, local PostgreSQL.`,
      '',
      `Throughput: ${N} events written as fast as possible (latency here is mostly queueing).`,
      '',
      '| pipeline | events | seconds | events/s | p50 ms | p99 ms |',
      '| --- | --- | --- | --- | --- | --- |',
      `| baseline: kafkajs produce -> consume ${fmt(base)}`,
      `| keyfleet: outbox -> relay -> Kafka -> inbox + effect ${fmt(keyfleet)}`,
      '',
      `keyfleet / baseline throughput: ${results.throughputRatio.toFixed(2)}`,
      '',
      `Latency: ${PACED_RATE} events/s for ${PACED_SECONDS} s (keyfleet: outbox insert to effect committed; baseline: send to receive).`,
      '',
      '| pipeline | events | seconds | events/s | p50 ms | p99 ms |',
      '| --- | --- | --- | --- | --- | --- |',
      `| baseline ${fmt(basePaced)}`,
      `| keyfleet ${fmt(keyfleetPaced)}`,
      '',
    ].join('\n');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'messaging.json'), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(out, 'messaging.md'), markdown);
    process.stdout.write(`${markdown}\n[bench] results written to ${out}/messaging.{json,md}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

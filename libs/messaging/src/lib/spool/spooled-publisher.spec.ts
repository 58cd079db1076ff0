import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import type { OutgoingRecord } from '../kafka/message-publisher';
import { MessagingException, MessagingExceptionCode } from '../messaging.exception';
import { SpooledPublisher, type RecordPublisher, type SpooledPublisherOptions } from './spooled-publisher';

/** A publisher the test fails, holds or lets through on demand; it remembers each acknowledged batch's keys. */
class FakePublisher implements RecordPublisher {
  readonly batches: string[][] = [];
  attempts = 0;
  connects = 0;
  failing = false;
  private held: { resolve: () => void; reject: (err: Error) => void } | undefined;
  private holding = false;

  get keys(): string[] {
    return this.batches.flat();
  }

  /** The next publish waits until `release()` or `refuse()`. */
  hold(): void {
    this.holding = true;
  }

  get isHolding(): boolean {
    return this.held !== undefined;
  }

  release(): void {
    this.holding = false;
    this.held?.resolve();
    this.held = undefined;
  }

  refuse(): void {
    this.holding = false;
    this.held?.reject(new Error('broker went away'));
    this.held = undefined;
  }

  async connect(): Promise<void> {
    this.connects += 1;
  }

  async publish(records: readonly OutgoingRecord[]): Promise<void> {
    this.attempts += 1;
    if (this.holding) {
      await new Promise<void>((resolve, reject) => (this.held = { resolve, reject }));
    }
    if (this.failing) throw new Error('connection refused');
    this.batches.push(records.map((r) => r.key));
  }
}

function record(i: number): OutgoingRecord {
  return { topic: 'keyfleet.crypto.ops.v1', key: `k-${i}`, value: Buffer.from(`secret-value-${i}`), headers: { 'keyfleet-id': `id-${i}` } };
}

function keys(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => `k-${from + i}`);
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const found = registry.getSingleMetric(name);
  if (!found) return 0;
  const { values } = await found.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want))
    .reduce((sum, v) => sum + v.value, 0);
}

/** The code of the `MessagingException` that `fn` throws. */
function thrownCode(fn: () => void): MessagingExceptionCode | string {
  try {
    fn();
  } catch (err) {
    return err instanceof MessagingException ? err.code : `not a MessagingException: ${String(err)}`;
  }
  return 'nothing thrown';
}

/** The keys of the records in a spool file, in file order. */
async function spoolKeys(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => (JSON.parse(line) as { key: string }).key);
}

describe(SpooledPublisher.name, () => {
  let dir: string;
  let spoolPath: string;
  let publisher: FakePublisher;
  let registry: Registry;
  let logLines: string[];
  const started: SpooledPublisher[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-spec-'));
    spoolPath = join(dir, 'ops.spool.jsonl');
    publisher = new FakePublisher();
    registry = new Registry();
    logLines = [];
  });

  afterEach(async () => {
    publisher.release();
    await Promise.all(started.splice(0).map((s) => s.stop(100)));
    await rm(dir, { recursive: true, force: true });
  });

  async function startSut(options: Partial<SpooledPublisherOptions> = {}): Promise<SpooledPublisher> {
    const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
    const sut = new SpooledPublisher({
      publisher,
      logger,
      metrics: registry,
      spoolDir: dir,
      name: 'ops',
      maxBatch: 5,
      lingerMs: 60_000,
      backoff: { baseMs: 1, capMs: 5 },
      ...options,
    });
    started.push(sut);
    await sut.start();
    return sut;
  }

  it('publishes a full batch at once, without waiting for the linger', async () => {
    const sut = await startSut({ maxBatch: 5, lingerMs: 60_000 });
    for (let i = 0; i < 12; i++) sut.submit(record(i));

    await waitFor('two full batches', () => publisher.batches.length === 2);
    expect(publisher.batches).toEqual([keys(0, 5), keys(5, 10)]);
  });

  it('publishes a partial batch once the linger has passed', async () => {
    const sut = await startSut({ maxBatch: 100, lingerMs: 20 });
    for (let i = 0; i < 3; i++) sut.submit(record(i));

    await waitFor('one batch', () => publisher.batches.length === 1);
    expect(publisher.batches).toEqual([keys(0, 3)]);
    expect(await metric(registry, 'keyfleet_spool_published_total', { spool: 'ops' })).toBe(3);
  });

  it('writes a batch that Kafka refused to the spool and delivers it once Kafka is back', async () => {
    publisher.failing = true;
    const sut = await startSut({ maxBatch: 3, lingerMs: 10 });
    for (let i = 0; i < 3; i++) sut.submit(record(i));

    await waitFor('the spooled batch', async () => (await spoolKeys(spoolPath)).length === 3);
    expect(await spoolKeys(spoolPath)).toEqual(keys(0, 3));
    expect(sut.spooled).toBe(3);
    expect(await metric(registry, 'keyfleet_spool_failures_total', { kind: 'publish' })).toBeGreaterThanOrEqual(1);
    expect(await metric(registry, 'keyfleet_spool_writes_total')).toBeGreaterThanOrEqual(1);

    publisher.failing = false;
    await waitFor('delivery after recovery', () => publisher.keys.length === 3);
    expect(publisher.keys).toEqual(keys(0, 3));
    expect(publisher.connects).toBeGreaterThanOrEqual(1);
    await waitFor('the spool to be truncated', async () => (await readFile(spoolPath)).length === 0);
    expect(sut.spooled).toBe(0);
  });

  it('delivers spooled records before newer ones, each once and in submission order', async () => {
    publisher.failing = true;
    const sut = await startSut({ maxBatch: 4, lingerMs: 5 });
    for (let i = 0; i < 10; i++) sut.submit(record(i));
    await waitFor('ten spooled records', () => sut.spooled === 10);
    // Submitted while Kafka is still away: they queue behind the spool.
    for (let i = 10; i < 15; i++) sut.submit(record(i));

    publisher.failing = false;
    for (let i = 15; i < 20; i++) sut.submit(record(i));
    await waitFor('all twenty records', () => publisher.keys.length >= 20);

    expect(publisher.keys).toEqual(keys(0, 20));
  });

  it('delivers the spool a previous run left behind when it starts', async () => {
    publisher.failing = true;
    const first = await startSut({ maxBatch: 5, lingerMs: 5 });
    for (let i = 0; i < 5; i++) first.submit(record(i));
    await waitFor('five spooled records', () => first.spooled === 5);
    await first.stop(50);
    expect(await spoolKeys(spoolPath)).toEqual(keys(0, 5));

    publisher.failing = false;
    const second = await startSut();

    await waitFor('the replayed records', () => publisher.keys.length === 5);
    expect(publisher.keys).toEqual(keys(0, 5));
    await waitFor('the spool to be truncated', async () => (await readFile(spoolPath)).length === 0);
    expect(second.spooled).toBe(0);
  });

  it('ignores a torn last line left by a crash, counts it and keeps every line before it', async () => {
    const line = (i: number) => `${JSON.stringify({ topic: 't', key: `k-${i}`, value: Buffer.from(`v-${i}`).toString('base64') })}\n`;
    await writeFile(spoolPath, `${line(0)}${line(1)}{"topic":"t","key":"k-torn","val`);
    publisher.failing = true;
    const sut = await startSut({ maxBatch: 5, lingerMs: 5 });
    // A new record lands on a line of its own, not glued to the torn bytes.
    sut.submit(record(2));
    await waitFor('the new record on disk', () => sut.spooled === 3);
    expect(await spoolKeys(spoolPath)).toEqual(keys(0, 3));

    publisher.failing = false;
    await waitFor('delivery', () => publisher.keys.length === 3);
    expect(publisher.keys).toEqual(keys(0, 3));
    expect(await metric(registry, 'keyfleet_spool_failures_total', { kind: 'torn-line' })).toBe(1);
  });

  it('bounds memory: a full buffer goes to the spool behind the batch in flight', async () => {
    publisher.hold();
    const sut = await startSut({ maxBatch: 3, lingerMs: 60_000, maxBuffered: 5 });
    for (let i = 0; i < 3; i++) sut.submit(record(i));
    await waitFor('the first batch in flight', () => publisher.isHolding);

    for (let i = 3; i < 9; i++) sut.submit(record(i));
    // The sixth record found the buffer full: batch in flight, buffer and record are on disk.
    expect(await spoolKeys(spoolPath)).toEqual(keys(0, 9));
    expect(sut.spooled).toBe(9);

    // The publish in flight fails: its records are already spooled, so they are not written twice.
    publisher.refuse();
    await waitFor('delivery from the spool', () => publisher.keys.length === 9);
    expect(publisher.keys).toEqual(keys(0, 9));
  });

  it('refuses records when the spool directory cannot be written (fail closed)', async () => {
    await writeFile(join(dir, 'a-file'), '');
    const sut = await startSut({ spoolDir: join(dir, 'a-file', 'spool') });

    expect(sut.accepting).toBe(false);
    expect(thrownCode(() => sut.submit(record(0)))).toBe(MessagingExceptionCode.SpoolUnavailable);
    expect(await metric(registry, 'keyfleet_spool_failures_total', { kind: 'spool-write' })).toBeGreaterThanOrEqual(1);
  });

  it('with failOpen, keeps what memory can hold and counts the rest as dropped, logging no content', async () => {
    await writeFile(join(dir, 'a-file'), '');
    publisher.failing = true;
    const sut = await startSut({ spoolDir: join(dir, 'a-file', 'spool'), failOpen: true, maxBuffered: 5, maxBatch: 5, lingerMs: 5 });
    expect(sut.accepting).toBe(true);

    for (let i = 0; i < 8; i++) sut.submit(record(i));
    for (let i = 8; i < 10; i++) sut.submit(record(i));

    expect(await metric(registry, 'keyfleet_spool_dropped_total', { spool: 'ops' })).toBe(5);
    const dropLogs = logLines.filter((l) => l.includes('records dropped'));
    expect(dropLogs).toHaveLength(1);
    expect(logLines.join('')).not.toMatch(/secret-value|k-\d/);

    publisher.failing = false;
    await waitFor('the records memory kept', () => publisher.keys.length === 5);
    expect(publisher.keys).toEqual(keys(0, 5));
  });

  it('publishes what is left when stopped', async () => {
    const sut = await startSut({ maxBatch: 100, lingerMs: 60_000 });
    for (let i = 0; i < 3; i++) sut.submit(record(i));

    await sut.stop(1_000);

    expect(publisher.keys).toEqual(keys(0, 3));
    expect(await readFile(spoolPath, 'utf8')).toBe('');
    expect(thrownCode(() => sut.submit(record(3)))).toBe(MessagingExceptionCode.NotRunning);
  });

  it('spools what Kafka does not take before the stop timeout, for the next start', async () => {
    publisher.hold();
    const sut = await startSut({ maxBatch: 2, lingerMs: 60_000 });
    for (let i = 0; i < 5; i++) sut.submit(record(i));
    await waitFor('a batch in flight', () => publisher.isHolding);

    await sut.stop(20);

    // The batch still in flight is spooled too: if it lands after all, it is a duplicate, never a loss.
    expect(await spoolKeys(spoolPath)).toEqual(keys(0, 5));
    expect(sut.accepting).toBe(false);
  });
});

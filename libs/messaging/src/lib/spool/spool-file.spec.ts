import { randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OutgoingRecord } from '../kafka/message-publisher';
import { SpoolFile } from './spool-file';

describe(SpoolFile.name, () => {
  let dir: string;
  let path: string;
  let unreadable: number;
  let sut: SpoolFile;

  const hooks = {
    onUnreadableLine: () => void (unreadable += 1),
    onSyncError: (err: unknown) => {
      throw err;
    },
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'spool-file-spec-'));
    path = join(dir, 'records.spool.jsonl');
    unreadable = 0;
    sut = await SpoolFile.open(path, hooks);
  });

  afterEach(async () => {
    await sut.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives back exactly the records appended: bytes, key, topic and headers, also a value larger than one read', async () => {
    const large = randomBytes(1_000_000);
    const records: OutgoingRecord[] = [
      { topic: 'a', key: 'k-0', value: Buffer.from([0, 1, 2, 10, 13]), headers: { 'keyfleet-id': 'id-0' } },
      { topic: 'b', key: 'k-1', value: large },
      { topic: 'c', key: 'k-2', value: Buffer.alloc(0) },
    ];
    sut.append(records);
    await sut.synced();

    const chunk = await sut.read(10);

    // Buffers compared with equals(): Jest's deep equality walks a 1 MB buffer byte by byte.
    expect(chunk.records.map(({ value: _, ...rest }) => rest)).toEqual(records.map(({ value: _, ...rest }) => rest));
    expect(chunk.records.map((r, i) => r.value.equals(records[i]!.value))).toEqual([true, true, true]);
    expect(chunk.lines).toBe(3);
    expect(sut.pending).toBe(3);
  });

  it('reads at most the number of records asked for, from where the last acknowledged chunk ended', async () => {
    sut.append([0, 1, 2, 3, 4].map((i) => ({ topic: 't', key: `k-${i}`, value: Buffer.from(`${i}`) })));

    const first = await sut.read(2);
    sut.acknowledge(first);
    const second = await sut.read(2);

    expect(first.records.map((r) => r.key)).toEqual(['k-0', 'k-1']);
    expect(second.records.map((r) => r.key)).toEqual(['k-2', 'k-3']);
    expect(sut.pending).toBe(3);
  });

  it('truncates the file only once every record was acknowledged', async () => {
    sut.append([0, 1, 2].map((i) => ({ topic: 't', key: `k-${i}`, value: Buffer.from(`${i}`) })));
    const first = await sut.read(2);
    sut.acknowledge(first);
    expect((await stat(path)).size).toBeGreaterThan(0);

    sut.acknowledge(await sut.read(2));

    expect((await stat(path)).size).toBe(0);
    expect(sut.pending).toBe(0);
  });

  it('skips and counts an unreadable line without losing the lines around it', async () => {
    sut.append([{ topic: 't', key: 'k-0', value: Buffer.from('0') }]);
    await sut.close();
    await appendFile(path, '{"topic":"t","key":5}\nnot json\n');
    sut = await SpoolFile.open(path, hooks);
    sut.append([{ topic: 't', key: 'k-1', value: Buffer.from('1') }]);

    const chunk = await sut.read(10);

    expect(chunk.records.map((r) => r.key)).toEqual(['k-0', 'k-1']);
    expect(chunk.lines).toBe(4);
    expect(unreadable).toBe(2);
    sut.acknowledge(chunk);
    expect(await readFile(path, 'utf8')).toBe('');
  });
});

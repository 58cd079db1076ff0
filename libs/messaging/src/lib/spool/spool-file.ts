import { constants, ftruncateSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { OutgoingRecord } from '../kafka/message-publisher';

/** Records read from the spool, and where the next read starts once Kafka acknowledged them. */
export interface SpoolChunk {
  readonly records: OutgoingRecord[];
  /** Lines consumed, unreadable ones included. */
  readonly lines: number;
  /** Byte offset just past the last line of this chunk. */
  readonly end: number;
}

interface SpoolLine {
  topic: string;
  key: string;
  value: string;
  headers?: Record<string, string>;
}

const NEWLINE = 0x0a;
const READ_BYTES = 256 * 1024;

function encodeLine(record: OutgoingRecord): string {
  const line: SpoolLine = { topic: record.topic, key: record.key, value: record.value.toString('base64') };
  if (record.headers) line.headers = { ...record.headers };
  return `${JSON.stringify(line)}\n`;
}

function isStringMap(value: unknown): value is Record<string, string> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'string');
}

function decodeLine(bytes: Buffer): OutgoingRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { topic, key, value, headers } = parsed as Partial<Record<keyof SpoolLine, unknown>>;
  if (typeof topic !== 'string' || typeof key !== 'string' || typeof value !== 'string') return undefined;
  if (headers !== undefined && !isStringMap(headers)) return undefined;
  return { topic, key, value: Buffer.from(value, 'base64'), ...(headers ? { headers } : {}) };
}

/**
 * An append-only file of records, one JSON line each (value in base64), read from the
 * front as Kafka takes them and truncated once all of them were acknowledged.
 *
 * Appends are synchronous writes at a known offset, so their order in the file is the order
 * of the calls, even when a caller that cannot await (a full in-memory buffer) and the
 * background loop both append; the `fdatasync` that makes them durable runs in the
 * background, coalesced while one is in flight. Nothing else writes the file: one process
 * owns a spool.
 */
export class SpoolFile {
  private cursor = 0;
  private syncing: Promise<void> | undefined;
  private dirty = false;

  private constructor(
    private readonly handle: FileHandle,
    private size: number,
    private lines: number,
    private readonly onUnreadableLine: () => void,
    private readonly onSyncError: (err: unknown) => void,
  ) {}

  /**
   * Opens (or creates) the spool at `path` and counts the records a previous run left in
   * it. A last line without its newline is what a crash in the middle of a write leaves: it
   * is cut off and reported through `onUnreadableLine`; the lines before it are kept.
   */
  static async open(path: string, hooks: { onUnreadableLine: () => void; onSyncError: (err: unknown) => void }): Promise<SpoolFile> {
    // Not O_APPEND: appends write at `size` themselves, so a failed partial write is simply
    // overwritten by the next one.
    const handle = await open(path, constants.O_RDWR | constants.O_CREAT, 0o600);
    try {
      const { size } = await handle.stat();
      let lines = 0;
      let wholeBytes = 0;
      const buffer = Buffer.allocUnsafe(READ_BYTES);
      for (let offset = 0; offset < size; ) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(READ_BYTES, size - offset), offset);
        if (bytesRead === 0) break;
        for (let at = buffer.indexOf(NEWLINE, 0); at !== -1 && at < bytesRead; at = buffer.indexOf(NEWLINE, at + 1)) {
          lines += 1;
          wholeBytes = offset + at + 1;
        }
        offset += bytesRead;
      }
      if (wholeBytes < size) {
        await handle.truncate(wholeBytes);
        await handle.datasync();
        hooks.onUnreadableLine();
      }
      return new SpoolFile(handle, wholeBytes, lines, hooks.onUnreadableLine, hooks.onSyncError);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Records in the file that were not yet acknowledged. */
  get pending(): number {
    return this.lines;
  }

  /**
   * Appends records at the end, synchronously, and starts a background `fdatasync`. Throws
   * the file system's error when the write fails (disk full, I/O error); the file is then
   * cut back so the failed bytes are not read as records.
   */
  append(records: readonly OutgoingRecord[]): void {
    if (records.length === 0) return;
    const bytes = Buffer.from(records.map(encodeLine).join(''), 'utf8');
    try {
      for (let written = 0; written < bytes.length; ) {
        written += writeSync(this.handle.fd, bytes, written, bytes.length - written, this.size + written);
      }
    } catch (err) {
      this.cutBack();
      throw err;
    }
    this.size += bytes.length;
    this.lines += records.length;
    this.scheduleSync();
  }

  /**
   * Checks that the file can still be written: writes one byte past the end, syncs and cuts
   * it off again. Throws the file system's error otherwise.
   */
  async probe(): Promise<void> {
    try {
      writeSync(this.handle.fd, '\n', this.size);
    } finally {
      this.cutBack();
    }
    await this.handle.datasync();
  }

  /** Reads up to `max` records from the first one not yet acknowledged. */
  async read(max: number): Promise<SpoolChunk> {
    const records: OutgoingRecord[] = [];
    let lines = 0;
    let offset = this.cursor;
    let readBytes = READ_BYTES;
    while (records.length < max && offset < this.size) {
      const length = Math.min(readBytes, this.size - offset);
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await this.handle.read(buffer, 0, length, offset);
      let start = 0;
      for (let at = buffer.indexOf(NEWLINE, 0); records.length < max && at !== -1 && at < bytesRead; at = buffer.indexOf(NEWLINE, start)) {
        const record = decodeLine(buffer.subarray(start, at));
        if (record) records.push(record);
        else this.onUnreadableLine();
        lines += 1;
        start = at + 1;
      }
      if (start === 0) {
        // One line longer than the read: read more at once (a record may be up to 1 MB).
        if (length === this.size - offset || bytesRead < length) break;
        readBytes *= 2;
        continue;
      }
      offset += start;
    }
    return { records, lines, end: offset };
  }

  /**
   * Marks a chunk as delivered. When nothing is left behind it the file is truncated: a
   * crash before this point only means its records are delivered again.
   */
  acknowledge(chunk: SpoolChunk): void {
    this.cursor = chunk.end;
    this.lines -= chunk.lines;
    if (this.cursor < this.size) return;
    try {
      // Synchronous, so no append can slip in between the check above and the truncation.
      ftruncateSync(this.handle.fd, 0);
      this.size = 0;
      this.cursor = 0;
      this.lines = 0;
    } catch {
      // The file keeps its delivered lines; reads go on from the cursor, and a restart
      // delivers them again, which consumers tolerate.
    }
  }

  /** Resolves once everything appended so far has been synced (or the sync failed). */
  async synced(): Promise<void> {
    while (this.syncing) await this.syncing;
  }

  /** Waits for the last sync, then closes the file. */
  async close(): Promise<void> {
    await this.synced();
    await this.handle.close();
  }

  private cutBack(): void {
    try {
      ftruncateSync(this.handle.fd, this.size);
    } catch {
      // Best effort: the next append overwrites from `size` anyway.
    }
  }

  private scheduleSync(): void {
    this.dirty = true;
    this.syncing ??= this.syncWhileDirty();
  }

  private async syncWhileDirty(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        await this.handle.datasync();
      }
    } catch (err) {
      this.onSyncError(err);
    } finally {
      this.syncing = undefined;
    }
  }
}

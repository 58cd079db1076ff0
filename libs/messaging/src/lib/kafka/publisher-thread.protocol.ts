// The messages between `WorkerPublisher` (the service's thread) and `publisher.worker` (the
// thread that owns the kafkajs producer).
import type { KafkaConnectionSettings } from './kafka-client';
import type { MessagePublisherOptions, OutgoingRecord } from './message-publisher';

/** The worker's `workerData`. */
export interface PublisherThreadSettings {
  readonly kafka: KafkaConnectionSettings;
  readonly publisher: MessagePublisherOptions;
}

/**
 * Records as one message carries them: every value in one buffer that is transferred, not
 * copied. Structured cloning copies the whole buffer behind a view, and a small Buffer is a
 * view into Node's shared 8 KiB pool: sent one by one, 500 records of 400 bytes would copy
 * 4 MB instead of 200 kB.
 */
export interface PackedRecords {
  readonly topics: string[];
  readonly keys: string[];
  /** Per record; `null` for none. */
  readonly headers: (Readonly<Record<string, string>> | null)[];
  /** Where each record's value ends in `bytes`; it starts where the one before ends. */
  readonly ends: number[];
  readonly bytes: ArrayBuffer;
}

/** What the thread counted while it handled one request (the service's metrics add it up). */
export interface PublisherCounts {
  readonly published: [topic: string, count: number][];
  readonly renewals: number;
}

/** An error and its causes as plain data (kafkajs errors carry their broker answer in `type`). */
export interface ThreadError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly type?: string;
  readonly cause?: ThreadError;
}

export type ToPublisherThread =
  | { readonly type: 'connect'; readonly id: number }
  | { readonly type: 'publish'; readonly id: number; readonly records: PackedRecords }
  | { readonly type: 'disconnect'; readonly id: number };

export type FromPublisherThread =
  | { readonly type: 'done'; readonly id: number; readonly counts: PublisherCounts }
  | { readonly type: 'failed'; readonly id: number; readonly error: ThreadError; readonly counts: PublisherCounts }
  | { readonly type: 'log'; readonly level: 'error' | 'warn' | 'info' | 'debug'; readonly message: string; readonly fields: Record<string, unknown> };

/** Copies the records' values into one buffer; the buffer is the message's transfer list. */
export function packRecords(records: readonly OutgoingRecord[]): PackedRecords {
  let total = 0;
  for (const record of records) total += record.value.byteLength;
  const bytes = new ArrayBuffer(total);
  const view = new Uint8Array(bytes);
  const packed: PackedRecords = { topics: [], keys: [], headers: [], ends: [], bytes };
  let at = 0;
  for (const record of records) {
    view.set(record.value, at);
    at += record.value.byteLength;
    packed.topics.push(record.topic);
    packed.keys.push(record.key);
    packed.headers.push(record.headers ?? null);
    packed.ends.push(at);
  }
  return packed;
}

/** The records again, their values views into the one buffer. */
export function unpackRecords(packed: PackedRecords): OutgoingRecord[] {
  const records: OutgoingRecord[] = [];
  let start = 0;
  for (let i = 0; i < packed.ends.length; i++) {
    const end = packed.ends[i] ?? start;
    const headers = packed.headers[i];
    records.push({
      topic: packed.topics[i] ?? '',
      key: packed.keys[i] ?? '',
      value: Buffer.from(packed.bytes, start, end - start),
      ...(headers ? { headers } : {}),
    });
    start = end;
  }
  return records;
}

/** `err` and up to seven causes as data; the messages are kafkajs's and ours, never a record's contents. */
export function threadErrorOf(err: unknown, depth = 0): ThreadError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const { code, type } = err as { code?: unknown; type?: unknown };
  return {
    name: err.name,
    message: err.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof type === 'string' ? { type } : {}),
    ...(err.cause !== undefined && depth < 7 ? { cause: threadErrorOf(err.cause, depth + 1) } : {}),
  };
}

/** The error again, with `name`, `type` and causes, so logs and `lostProducerState` read it as before. */
export function errorOfThread(data: ThreadError): Error {
  const err = new Error(data.message, data.cause ? { cause: errorOfThread(data.cause) } : undefined);
  err.name = data.name;
  if (data.type !== undefined) Object.assign(err, { type: data.type });
  if (data.code !== undefined) Object.assign(err, { code: data.code });
  return err;
}

import {
  MessageTypes,
  createMessage,
  cryptoOperationSchema,
  encodeMessage,
  operationOutcomeSchema,
  type CryptoOperationRecordedV1,
} from '@keyfleet/contracts';

const OPERATIONS: ReadonlySet<string> = new Set(cryptoOperationSchema.options);
const OUTCOMES: ReadonlySet<string> = new Set(operationOutcomeSchema.options);

/** A `keyfleet.crypto.operation-recorded.v1` message ready for the spool. */
export interface EncodedOperationRecord {
  /** The message's subject and Kafka key: the key alias, or `random`. */
  readonly subject: string;
  readonly value: Buffer;
}

/**
 * Encodes the audit record of one crypto operation (one per operation, so this is on every
 * request's path).
 *
 * `encodeMessage` validates the whole envelope and payload with zod before serialising; for
 * these records that costs more than the rest of the audit trail together. Here the payload is
 * copied field by field from the typed record, so a record carries exactly the schema's fields
 * and nothing else ever reaches it (never data: no plaintext, ciphertext, signature or key
 * material, whatever the caller's object holds); the envelope comes from `createMessage`. The
 * checks below are the schema's constraints on what varies per request (enums, string lengths,
 * integers); `operation-record.encoder.spec.ts` holds them to `cryptoOperationRecordedV1Schema`
 * with generated records, valid and not. A record they do not accept takes the validating path,
 * which throws the schema's error as before.
 */
export function encodeOperationRecord(record: CryptoOperationRecordedV1, source: string): EncodedOperationRecord {
  const data: CryptoOperationRecordedV1 = {
    operation: record.operation,
    caller: record.caller,
    ...(record.keyAlias !== undefined ? { keyAlias: record.keyAlias } : {}),
    ...(record.keyVersion !== undefined ? { keyVersion: record.keyVersion } : {}),
    ...(record.clusterId !== undefined ? { clusterId: record.clusterId } : {}),
    outcome: record.outcome,
    latencyMicros: record.latencyMicros,
    attempts: record.attempts,
    items: record.items,
  };
  const subject = data.keyAlias ?? 'random';
  const message = createMessage({ type: MessageTypes.CryptoOperationRecordedV1, source, subject, actor: { kind: 'service', id: source }, data });
  const value = withinSchema(data, subject) ? Buffer.from(JSON.stringify(message), 'utf8') : encodeMessage(message);
  return { subject, value };
}

function withinSchema(data: CryptoOperationRecordedV1, subject: string): boolean {
  return (
    OPERATIONS.has(data.operation) &&
    OUTCOMES.has(data.outcome) &&
    text(data.caller, 1, 256) &&
    (data.keyAlias === undefined || text(data.keyAlias, 0, 256)) &&
    (data.keyVersion === undefined || integer(data.keyVersion, 1)) &&
    (data.clusterId === undefined || text(data.clusterId, 0, 64)) &&
    integer(data.latencyMicros, 0) &&
    integer(data.attempts, 0) &&
    integer(data.items, 1) &&
    // The envelope's subject: 1..256 characters.
    text(subject, 1, 256)
  );
}

function text(value: unknown, min: number, max: number): boolean {
  return typeof value === 'string' && value.length >= min && value.length <= max;
}

function integer(value: unknown, min: number): boolean {
  return Number.isInteger(value) && (value as number) >= min;
}

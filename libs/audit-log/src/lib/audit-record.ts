import { createHash } from 'node:crypto';

/** The previous hash of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** One entry of the hash-chained audit log. */
export interface AuditRecord {
  readonly sequence: number;
  readonly previousHash: string;
  readonly recordHash: string;
  readonly messageId: string;
  readonly messageType: string;
  readonly source: string;
  readonly subject: string;
  /** `<kind>:<id>` of the actor. */
  readonly actor: string;
  readonly correlationId: string;
  readonly causationId: string | null;
  /** When the audited message was created (its envelope time). */
  readonly time: string;
  /** The audited message's payload. Contracts never carry key material or secrets. */
  readonly data: unknown;
}

export type UnhashedAuditRecord = Omit<AuditRecord, 'recordHash'>;

/** JSON with object keys sorted at every level, so the same record always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** SHA-256 over the previous hash and the canonical form of the record (without its own hash). */
export function hashRecord(record: UnhashedAuditRecord): string {
  return createHash('sha256').update(record.previousHash).update('\n').update(canonicalJson(record)).digest('hex');
}

export type ChainVerification =
  | { readonly ok: true; readonly count: number; readonly headHash: string }
  | { readonly ok: false; readonly sequence: number; readonly reason: string };

/**
 * Verifies a run of consecutive records: sequences without gaps, each linked to the hash of
 * the one before, each hash matching its content. Tampering with any field of any record,
 * removing one or reordering them is detected at the first affected sequence.
 *
 * @param previousHash the hash before the first record (GENESIS_HASH from the start of the log).
 */
export function verifyChain(records: readonly AuditRecord[], previousHash = GENESIS_HASH): ChainVerification {
  let expectedPrevious = previousHash;
  let expectedSequence = records[0]?.sequence ?? 1;
  for (const record of records) {
    if (record.sequence !== expectedSequence) {
      return { ok: false, sequence: record.sequence, reason: `expected sequence ${expectedSequence}` };
    }
    if (record.previousHash !== expectedPrevious) {
      return { ok: false, sequence: record.sequence, reason: 'previous hash does not match the record before' };
    }
    const { recordHash, ...unhashed } = record;
    if (hashRecord(unhashed) !== recordHash) {
      return { ok: false, sequence: record.sequence, reason: 'record hash does not match its content' };
    }
    expectedPrevious = recordHash;
    expectedSequence += 1;
  }
  return { ok: true, count: records.length, headHash: expectedPrevious };
}

import type { EntityManager } from 'typeorm';
import type { AuditLogRepository, AuditRecord } from '@keyfleet/audit-log';

interface AuditRow {
  sequence: string;
  previous_hash: string;
  record_hash: string;
  message_id: string;
  message_type: string;
  source: string;
  subject: string;
  actor: string;
  correlation_id: string;
  causation_id: string | null;
  time: string;
  data: unknown;
}

/** Maps a stored row back to the record that was hashed. */
export function toAuditRecord(row: AuditRow): AuditRecord {
  return {
    sequence: Number(row.sequence),
    previousHash: row.previous_hash,
    recordHash: row.record_hash,
    messageId: row.message_id,
    messageType: row.message_type,
    source: row.source,
    subject: row.subject,
    actor: row.actor,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    time: row.time,
    data: row.data,
  };
}

/** The audit log in Postgres, bound to the transaction of the message being handled. */
export class PostgresAuditLogRepository implements AuditLogRepository {
  constructor(private readonly em: EntityManager) {}

  async lockHead(): Promise<{ sequence: number; hash: string } | null> {
    // One appender at a time, whatever partition its message came from: the chain is linear.
    await this.em.query(`SELECT pg_advisory_xact_lock(hashtext('keyfleet.audit-log.head'))`);
    const [row] = await this.em.query<{ sequence: string; record_hash: string }[]>(
      `SELECT sequence, record_hash FROM audit_records ORDER BY sequence DESC LIMIT 1`,
    );
    return row ? { sequence: Number(row.sequence), hash: row.record_hash } : null;
  }

  async append(record: AuditRecord): Promise<void> {
    await this.em.query(
      `INSERT INTO audit_records (sequence, previous_hash, record_hash, message_id, message_type, source, subject, actor,
                                  correlation_id, causation_id, time, data)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        record.sequence,
        record.previousHash,
        record.recordHash,
        record.messageId,
        record.messageType,
        record.source,
        record.subject,
        record.actor,
        record.correlationId,
        record.causationId,
        record.time,
        JSON.stringify(record.data),
      ],
    );
  }

  /** Records in sequence order from `fromSequence`, at most `limit`. */
  async readRange(fromSequence: number, limit: number): Promise<AuditRecord[]> {
    const rows = await this.em.query<AuditRow[]>(
      `SELECT * FROM audit_records WHERE sequence >= $1 ORDER BY sequence LIMIT $2`,
      [fromSequence, limit],
    );
    return rows.map(toAuditRecord);
  }
}

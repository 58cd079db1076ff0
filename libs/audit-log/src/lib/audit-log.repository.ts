import type { AuditRecord } from './audit-record';

/** The port of the audit log's storage; the adapter runs in the handled message's transaction. */
export interface AuditLogRepository {
  /**
   * The newest record's sequence and hash, locking the head so concurrent appends queue
   * behind this transaction (the chain must stay linear).
   */
  lockHead(): Promise<{ sequence: number; hash: string } | null>;
  append(record: AuditRecord): Promise<void>;
}

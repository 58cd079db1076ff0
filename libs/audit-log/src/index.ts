export {
  GENESIS_HASH,
  canonicalJson,
  hashRecord,
  verifyChain,
  type AuditRecord,
  type ChainVerification,
  type UnhashedAuditRecord,
} from './lib/audit-record';
export type { AuditLogRepository } from './lib/audit-log.repository';
export { AppendAuditRecordUseCase } from './lib/use-cases/append-audit-record/append-audit-record.use-case';

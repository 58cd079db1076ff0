import { z } from 'zod';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 hex digest');

/**
 * Event: audit-service appended a record to its hash-chained log. Subject: the audited
 * aggregate. `recordHash` = SHA-256 over the previous hash and the canonical record, so a
 * reader can verify the chain without the database.
 */
export const auditRecordAppendedV1Schema = z.object({
  sequence: z.number().int().min(1),
  previousHash: sha256Hex,
  recordHash: sha256Hex,
  recordedMessageId: z.string().uuid(),
  recordedType: z.string().min(1).max(128),
  recordedSource: z.string().min(1).max(128),
  recordedSubject: z.string().min(1).max(256),
  recordedActor: z.string().min(1).max(160),
  recordedTime: z.string().datetime({ precision: 3 }),
});
export type AuditRecordAppendedV1 = z.infer<typeof auditRecordAppendedV1Schema>;

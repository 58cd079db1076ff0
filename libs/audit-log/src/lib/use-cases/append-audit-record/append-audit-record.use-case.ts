import { createMessage, MessageTypes, type AnyMessage, type Message } from '@keyfleet/contracts';
import { GENESIS_HASH, hashRecord, type AuditRecord } from '../../audit-record';
import type { AuditLogRepository } from '../../audit-log.repository';

const SOURCE = 'audit-service';

/**
 * Appends an audited message to the hash-chained log and announces the sequenced record
 * (`AuditRecordAppendedV1`) for compliance consumers.
 */
export class AppendAuditRecordUseCase {
  constructor(private readonly repository: AuditLogRepository) {}

  async execute(message: AnyMessage): Promise<{ record: AuditRecord; events: readonly Message[] }> {
    const head = await this.repository.lockHead();
    const unhashed = {
      sequence: (head?.sequence ?? 0) + 1,
      previousHash: head?.hash ?? GENESIS_HASH,
      messageId: message.id,
      messageType: message.type,
      source: message.source,
      subject: message.subject,
      actor: `${message.actor.kind}:${message.actor.id}`,
      correlationId: message.correlationId,
      causationId: message.causationId,
      time: message.time,
      data: message.data,
    };
    const record: AuditRecord = { ...unhashed, recordHash: hashRecord(unhashed) };
    await this.repository.append(record);
    const event = createMessage({
      type: MessageTypes.AuditRecordAppendedV1,
      source: SOURCE,
      subject: message.subject,
      actor: { kind: 'service', id: SOURCE },
      causedBy: message,
      data: {
        sequence: record.sequence,
        previousHash: record.previousHash,
        recordHash: record.recordHash,
        recordedMessageId: record.messageId,
        recordedType: record.messageType,
        recordedSource: record.source,
        recordedSubject: record.subject,
        recordedActor: record.actor,
        recordedTime: record.time,
      },
    });
    return { record, events: [event] };
  }
}

import { createMessage, MessageTypes } from '@keyfleet/contracts';
import { GENESIS_HASH, verifyChain, type AuditRecord } from '../../audit-record';
import type { AuditLogRepository } from '../../audit-log.repository';
import { AppendAuditRecordUseCase } from './append-audit-record.use-case';

class InMemoryAuditLog implements AuditLogRepository {
  readonly records: AuditRecord[] = [];
  async lockHead() {
    const last = this.records[this.records.length - 1];
    return last ? { sequence: last.sequence, hash: last.recordHash } : null;
  }
  async append(record: AuditRecord) {
    this.records.push(record);
  }
}

const command = () =>
  createMessage({
    type: MessageTypes.KeyCreateRequestedV1,
    source: 'keyfleet-cli',
    subject: 'payments',
    actor: { kind: 'operator', id: 'alice' },
    data: { alias: 'payments', keyType: 'aes-256', usage: ['encrypt-decrypt'] },
  });

describe(AppendAuditRecordUseCase.name, () => {
  let log: InMemoryAuditLog;
  let sut: AppendAuditRecordUseCase;

  beforeEach(() => {
    log = new InMemoryAuditLog();
    sut = new AppendAuditRecordUseCase(log);
  });

  it('starts the chain at sequence 1 from the genesis hash', async () => {
    const { record } = await sut.execute(command());
    expect(record).toMatchObject({ sequence: 1, previousHash: GENESIS_HASH, actor: 'operator:alice', subject: 'payments' });
  });

  it('links every record to the one before, verifiably', async () => {
    for (let i = 0; i < 10; i += 1) await sut.execute(command());
    expect(verifyChain(log.records)).toMatchObject({ ok: true, count: 10 });
  });

  it('announces the sequenced record, caused by the audited message', async () => {
    const audited = command();
    const { record, events } = await sut.execute(audited);
    expect(events[0]).toMatchObject({
      type: MessageTypes.AuditRecordAppendedV1,
      subject: 'payments',
      causationId: audited.id,
      correlationId: audited.correlationId,
      data: { sequence: 1, recordHash: record.recordHash, recordedMessageId: audited.id, recordedType: audited.type },
    });
  });
});

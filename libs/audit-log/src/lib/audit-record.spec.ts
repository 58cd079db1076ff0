import { GENESIS_HASH, canonicalJson, hashRecord, verifyChain, type AuditRecord } from './audit-record';

function chain(length: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  let previousHash = GENESIS_HASH;
  for (let sequence = 1; sequence <= length; sequence += 1) {
    const unhashed = {
      sequence,
      previousHash,
      messageId: `01936d2a-0000-7000-8000-00000000000${sequence}`,
      messageType: 'keyfleet.key.registered.v1',
      source: 'key-service',
      subject: 'payments',
      actor: 'service:key-service',
      correlationId: '01936d2a-0000-7000-8000-000000000000',
      causationId: null,
      time: '2026-11-22T10:00:00.000Z',
      data: { alias: 'payments', version: sequence },
    };
    const record = { ...unhashed, recordHash: hashRecord(unhashed) };
    records.push(record);
    previousHash = record.recordHash;
  }
  return records;
}

describe(canonicalJson.name, () => {
  it('does not depend on key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(canonicalJson({ a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 }));
  });
});

describe(verifyChain.name, () => {
  it('accepts an intact chain and returns its head', () => {
    const records = chain(5);
    expect(verifyChain(records)).toEqual({ ok: true, count: 5, headHash: records[4]?.recordHash });
  });

  it('detects a changed field at the record that was changed', () => {
    const records = chain(5);
    records[2] = { ...records[2]!, subject: 'someone-else' };
    expect(verifyChain(records)).toEqual({ ok: false, sequence: 3, reason: 'record hash does not match its content' });
  });

  it('detects a record rewritten with a fresh hash at the next record', () => {
    const records = chain(5);
    const { recordHash: _old, ...tampered } = { ...records[1]!, data: { alias: 'payments', version: 99 } };
    records[1] = { ...tampered, recordHash: hashRecord(tampered) };
    expect(verifyChain(records)).toEqual({ ok: false, sequence: 3, reason: 'previous hash does not match the record before' });
  });

  it('detects a removed record', () => {
    const records = chain(5);
    records.splice(3, 1);
    expect(verifyChain(records)).toMatchObject({ ok: false, sequence: 5, reason: 'expected sequence 4' });
  });
});

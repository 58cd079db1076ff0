import { DeadLetterHeaders, deadLetterRecord } from './dead-letter';

describe(deadLetterRecord.name, () => {
  const message = {
    key: Buffer.from('payments'),
    value: Buffer.from('{"not":"valid"}'),
    offset: '42',
    timestamp: '0',
    attributes: 0,
    headers: { 'keyfleet-type': Buffer.from('keyfleet.key.registered.v1') },
  };

  it('keeps the original bytes, key and headers and says why, where from and how often', () => {
    const sut = deadLetterRecord(
      { topic: 'keyfleet.key.events.v1', partition: 2, message },
      'audit-service',
      { code: 'INVALID_DATA', reason: 'INVALID_DATA at data.alias: too long', attempts: 1 },
      new Date('2026-11-22T10:00:00.000Z'),
    );
    expect(sut).toEqual({
      topic: 'keyfleet.key.events.v1.dlq',
      key: 'payments',
      value: message.value,
      headers: {
        'keyfleet-type': 'keyfleet.key.registered.v1',
        [DeadLetterHeaders.Reason]: 'INVALID_DATA at data.alias: too long',
        [DeadLetterHeaders.ReasonCode]: 'INVALID_DATA',
        [DeadLetterHeaders.SourceTopic]: 'keyfleet.key.events.v1',
        [DeadLetterHeaders.SourcePartition]: '2',
        [DeadLetterHeaders.SourceOffset]: '42',
        [DeadLetterHeaders.ConsumerGroup]: 'audit-service',
        [DeadLetterHeaders.Attempts]: '1',
        [DeadLetterHeaders.Time]: '2026-11-22T10:00:00.000Z',
      },
    });
  });

  it('dead-letters a tombstone (no value) as an empty record rather than dropping it', () => {
    const sut = deadLetterRecord(
      { topic: 't', partition: 0, message: { ...message, key: null, value: null } },
      'g',
      { code: 'MALFORMED_JSON', reason: 'message is empty', attempts: 1 },
    );
    expect(sut.value).toEqual(Buffer.alloc(0));
    expect(sut.key).toBe('');
  });
});

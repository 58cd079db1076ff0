import { UUID_V7 } from './envelope.schema';
import { createMessage } from './message';
import { MessageTypes } from './message-registry';
import { topicOf } from './message-registry';
import { Topics, dlqTopic, isDlqTopic } from './topics';

const actor = { kind: 'service', id: 'key-service' } as const;

describe(createMessage.name, () => {
  it('starts a new correlation for a command', () => {
    const sut = createMessage({
      type: MessageTypes.KeyCreateRequestedV1,
      source: 'keyfleet-cli',
      subject: 'payments',
      actor: { kind: 'operator', id: 'alice' },
      data: { alias: 'payments', keyType: 'aes-256', usage: ['encrypt-decrypt'] },
    });
    expect(sut.id).toMatch(UUID_V7);
    expect(sut.correlationId).toBe(sut.id);
    expect(sut.causationId).toBeNull();
  });

  it('inherits the correlation of the message that caused it', () => {
    const cause = { id: '01890a5d-ac96-774b-bcce-b302099a8057', correlationId: '01890a5d-ac96-774b-bcce-b302099a8000' };
    const sut = createMessage({
      type: MessageTypes.KeyCommandRejectedV1,
      source: 'key-service',
      subject: 'payments',
      actor,
      data: { commandType: MessageTypes.KeyCreateRequestedV1, reason: 'alias already exists' },
      causedBy: cause,
    });
    expect(sut.correlationId).toBe(cause.correlationId);
    expect(sut.causationId).toBe(cause.id);
  });

  it('orders ids by creation time', () => {
    const make = (ms: number) =>
      createMessage(
        { type: MessageTypes.KeyCommandRejectedV1, source: 's', subject: 'x', actor, data: { commandType: 'c', reason: 'r' } },
        new Date(ms),
      ).id;
    expect(make(1_700_000_000_000) < make(1_700_000_000_001)).toBe(true);
  });
});

describe('topics', () => {
  it('routes commands and events to their domain topics', () => {
    expect(topicOf(MessageTypes.KeyCreateRequestedV1)).toBe(Topics.KeyCommands);
    expect(topicOf(MessageTypes.KeyRegisteredV1)).toBe(Topics.KeyEvents);
    expect(topicOf(MessageTypes.AuditRecordAppendedV1)).toBe(Topics.AuditRecords);
  });

  it('names dead-letter topics after their source topic', () => {
    expect(dlqTopic(Topics.KeyEvents)).toBe('keyfleet.key.events.v1.dlq');
    expect(isDlqTopic(dlqTopic(Topics.KeyEvents))).toBe(true);
    expect(isDlqTopic(Topics.KeyEvents)).toBe(false);
  });

  it('cannot be renamed at run time', () => {
    expect(Object.isFrozen(Topics)).toBe(true);
    expect(Object.isFrozen(MessageTypes)).toBe(true);
  });
});

import fc from 'fast-check';
import { ContractsException, ContractsExceptionCode } from './contracts.exception';
import { createMessage } from './message';
import { messageArbitrary } from './message.arbitraries';
import { decodeMessage, encodeMessage, parseMessage } from './message.codec';
import { MessageTypes } from './message-registry';

const valid = () =>
  createMessage({
    type: MessageTypes.KeyCreateRequestedV1,
    source: 'keyfleet-cli',
    subject: 'payments',
    actor: { kind: 'operator', id: 'alice' },
    data: { alias: 'payments', keyType: 'aes-256', usage: ['encrypt-decrypt'] },
  });

function decodeError(bytes: Buffer): ContractsException {
  const result = decodeMessage(bytes);
  if (result.ok) throw new Error('expected the message to be rejected');
  return result.error;
}

describe('message codec', () => {
  it('decodes what it encodes, for every message type', () => {
    fc.assert(
      fc.property(messageArbitrary, (message) => {
        const result = decodeMessage(encodeMessage(message));
        expect(result).toEqual({ ok: true, message });
      }),
      { numRuns: 500 },
    );
  });

  it('rejects arbitrary bytes without throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        expect(decodeMessage(Buffer.from(bytes)).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects arbitrary JSON values without throwing', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(parseMessage(value).ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects every truncation of a valid message', () => {
    fc.assert(
      fc.property(messageArbitrary, fc.double({ min: 0, max: 1, noNaN: true }), (message, fraction) => {
        const bytes = encodeMessage(message);
        const cut = Math.min(bytes.length - 1, Math.floor(bytes.length * fraction));
        expect(decodeMessage(bytes.subarray(0, cut)).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('rejects a message over the size limit and says so', () => {
    const error = decodeError(Buffer.alloc(2_000_000, 0x20));
    expect(error.code).toBe(ContractsExceptionCode.TooLarge);
    expect(error.reason).toContain('2000000 bytes');
  });

  it('names the field and the reason for an invalid payload', () => {
    const message = { ...valid(), data: { alias: 'Not An Alias', keyType: 'aes-256', usage: ['encrypt-decrypt'] } };
    const error = decodeError(Buffer.from(JSON.stringify(message)));
    expect(error.code).toBe(ContractsExceptionCode.InvalidData);
    expect(error.path).toBe('data.alias');
    expect(error.message).toMatch(/^INVALID_DATA at data\.alias: must be 1-64 characters/);
  });

  it('names the envelope field that is wrong', () => {
    const error = decodeError(Buffer.from(JSON.stringify({ ...valid(), id: 'not-a-uuid' })));
    expect(error.code).toBe(ContractsExceptionCode.InvalidEnvelope);
    expect(error.path).toBe('id');
  });

  it('refuses an unknown message type', () => {
    const error = decodeError(Buffer.from(JSON.stringify({ ...valid(), type: 'keyfleet.key.exploded.v1' })));
    expect(error.code).toBe(ContractsExceptionCode.UnknownType);
  });

  it('never echoes the offending value in the error', () => {
    const secret = 'hunter2-super-secret-value';
    const message = { ...valid(), data: { alias: secret.toUpperCase(), keyType: 'aes-256', usage: ['mac'] } };
    const error = decodeError(Buffer.from(JSON.stringify(message)));
    expect(error.message.toLowerCase()).not.toContain(secret);
  });

  it('refuses to encode an invalid message', () => {
    const message = { ...valid(), data: { alias: '', keyType: 'aes-256', usage: [] } } as unknown as ReturnType<typeof valid>;
    expect(() => encodeMessage(message)).toThrow(ContractsException);
  });
});

import fc from 'fast-check';
import {
  ContractsException,
  MessageTypes,
  createMessage,
  cryptoOperationSchema,
  decodeMessage,
  encodeMessage,
  operationOutcomeSchema,
  type CryptoOperationRecordedV1,
} from '@keyfleet/contracts';
import { encodeOperationRecord } from './operation-record.encoder';

const SOURCE = 'crypto-gateway';

/** Records as the gateway builds them, and many it never would: every field also out of its schema's range. */
/** Strings of any length up to 300, the schema's limits (1, 64, 256) and their neighbours included. */
const anyText = fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom(0, 1, 2, 63, 64, 65, 255, 256, 257).map((n) => 'é'.repeat(n)));
const anyNumber = fc.oneof(fc.integer({ min: -3, max: 2 ** 40 }), fc.double(), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, Number.MAX_SAFE_INTEGER + 2));
const record = fc.record(
  {
    operation: fc.constantFrom(...cryptoOperationSchema.options, 'nope'),
    caller: fc.oneof(anyText, fc.constant('spiffe://keyfleet.local/app/app-demo')),
    keyAlias: fc.oneof(anyText, fc.constant('orders')),
    keyVersion: anyNumber,
    clusterId: anyText,
    outcome: fc.constantFrom(...operationOutcomeSchema.options, 'BROKEN'),
    latencyMicros: anyNumber,
    attempts: anyNumber,
    items: anyNumber,
  },
  { requiredKeys: ['operation', 'caller', 'outcome', 'latencyMicros', 'attempts', 'items'] },
) as fc.Arbitrary<CryptoOperationRecordedV1>;

/** The envelope without what differs between two encodings of the same record. */
function comparable(bytes: Buffer): unknown {
  const { id: _id, time: _time, correlationId: _correlation, ...rest } = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  return rest;
}

function outcomeOf(work: () => Buffer): Buffer | ContractsException {
  try {
    return work();
  } catch (err) {
    if (err instanceof ContractsException) return err;
    throw err;
  }
}

describe(encodeOperationRecord.name, () => {
  it('accepts exactly the records the schema accepts, and encodes them as the validating codec does', () => {
    fc.assert(
      fc.property(record, (r) => {
        const fast = outcomeOf(() => encodeOperationRecord(r, SOURCE).value);
        const reference = outcomeOf(() =>
          encodeMessage(createMessage({ type: MessageTypes.CryptoOperationRecordedV1, source: SOURCE, subject: r.keyAlias ?? 'random', actor: { kind: 'service', id: SOURCE }, data: r })),
        );

        if (reference instanceof ContractsException) {
          expect(fast).toBeInstanceOf(ContractsException);
          return;
        }
        expect(fast).toBeInstanceOf(Buffer);
        expect(comparable(fast as Buffer)).toEqual(comparable(reference));
        const decoded = decodeMessage(fast as Buffer);
        const expected = decodeMessage(reference);
        expect(decoded.ok && expected.ok && decoded.message.data).toEqual(expected.ok && expected.message.data);
      }),
      { numRuns: 2_000 },
    );
  });

  it('writes only the schema\'s fields, whatever else the object it is given holds', () => {
    const withData = {
      operation: 'encrypt',
      caller: 'spiffe://keyfleet.local/app/app-demo',
      keyAlias: 'orders',
      outcome: 'ok',
      latencyMicros: 120,
      attempts: 1,
      items: 1,
      plaintext: Buffer.from('card number'),
      signature: 'c2lnbmF0dXJl',
    } as CryptoOperationRecordedV1;

    const { value, subject } = encodeOperationRecord(withData, SOURCE);

    expect(subject).toBe('orders');
    expect(Object.keys((JSON.parse(value.toString('utf8')) as { data: object }).data)).toEqual(['operation', 'caller', 'keyAlias', 'outcome', 'latencyMicros', 'attempts', 'items']);
    expect(value.toString('utf8')).not.toContain('card number');
  });

  it('names the operation `random` when it has no key alias', () => {
    const { subject } = encodeOperationRecord({ operation: 'generate-random', caller: 'spiffe://keyfleet.local/app/app-demo', outcome: 'ok', latencyMicros: 5, attempts: 1, items: 1 }, SOURCE);

    expect(subject).toBe('random');
  });
});

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

  it('writes the envelope createMessage builds: the same keys in the same order, id and correlation id one UUIDv7 of the record\'s millisecond', () => {
    const r: CryptoOperationRecordedV1 = { operation: 'sign', caller: 'spiffe://keyfleet.local/app/app-demo', keyAlias: 'receipts', keyVersion: 3, clusterId: 'cluster-a', outcome: 'ok', latencyMicros: 900, attempts: 2, items: 1 };
    const reference = JSON.parse(
      encodeMessage(createMessage({ type: MessageTypes.CryptoOperationRecordedV1, source: SOURCE, subject: 'receipts', actor: { kind: 'service', id: SOURCE }, data: r })).toString('utf8'),
    ) as Record<string, unknown>;
    const before = Date.now();

    const fast = JSON.parse(encodeOperationRecord(r, SOURCE).value.toString('utf8')) as { id: string; time: string; correlationId: string; data: object } & Record<string, unknown>;

    expect(Object.keys(fast)).toEqual(Object.keys(reference));
    expect(Object.keys(fast.data)).toEqual(Object.keys(reference['data'] as object));
    expect(fast.correlationId).toBe(fast.id);
    expect(fast.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // A UUIDv7 starts with its millisecond timestamp (48 bits): the record's time.
    expect(parseInt(fast.id.replace(/-/g, '').slice(0, 12), 16)).toBe(Date.parse(fast.time));
    expect(Date.parse(fast.time)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(fast.time)).toBeLessThanOrEqual(Date.now());
  });

  it('stays exact for many distinct callers and aliases (its cache of quoted strings is bounded), and for strings JSON must escape', () => {
    const tricky = ['a"b', 'back\\slash', 'line\nbreak', 'tab\t', 'é✓😀', '\u0001ctl', '</script>'];
    for (let i = 0; i < 3_000; i += 1) {
      const caller = `${tricky[i % tricky.length]}-${i}`;
      const keyAlias = `alias-${i % 1_500}`;
      const decoded = decodeMessage(encodeOperationRecord({ operation: 'encrypt', caller, keyAlias, outcome: 'ok', latencyMicros: i, attempts: 1, items: 1 }, SOURCE).value);

      expect(decoded.ok && decoded.message.data).toEqual({ operation: 'encrypt', caller, keyAlias, outcome: 'ok', latencyMicros: i, attempts: 1, items: 1 });
      expect(decoded.ok && decoded.message.subject).toBe(keyAlias);
    }
  });

  it('names the operation `random` when it has no key alias', () => {
    const { subject } = encodeOperationRecord({ operation: 'generate-random', caller: 'spiffe://keyfleet.local/app/app-demo', outcome: 'ok', latencyMicros: 5, attempts: 1, items: 1 }, SOURCE);

    expect(subject).toBe('random');
  });
});

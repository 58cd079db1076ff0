// fast-check arbitraries for every message type; used by the property tests here and by
// other libs' tests through the package entry (`messageArbitrary`).
import fc from 'fast-check';
import { v7 as uuidv7 } from 'uuid';
import { SPEC_VERSION } from './envelope.schema';
import { MessageTypes, type MessagePayloads, type MessageType } from './message-registry';
import type { AnyMessage } from './message';
import { cryptoOperationSchema, gatewayAdminActionSchema, operationOutcomeSchema } from './messages/gateway.messages';
import { keyTypeSchema, keyUsageSchema } from './messages/key.messages';

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const alias = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,63}$/);
const isoTime = fc
  .date({ min: new Date('2000-01-01T00:00:00.000Z'), max: new Date('2099-12-31T23:59:59.999Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const uuid7 = fc.integer({ min: 0, max: 2 ** 40 }).map((msecs) => uuidv7({ msecs }));
const keyType = fc.constantFrom(...keyTypeSchema.options);
const usage = fc.uniqueArray(fc.constantFrom(...keyUsageSchema.options), { minLength: 1, maxLength: 4 });
const text = (max: number) => fc.string({ minLength: 1, maxLength: max });

const payloads: { [T in MessageType]: fc.Arbitrary<MessagePayloads[T]> } = {
  [MessageTypes.KeyCreateRequestedV1]: fc.record(
    { alias, keyType, usage, description: fc.string({ maxLength: 256 }) },
    { requiredKeys: ['alias', 'keyType', 'usage'] },
  ),
  [MessageTypes.KeyRegisteredV1]: fc.record({
    alias,
    version: fc.integer({ min: 1, max: 1_000_000 }),
    keyType,
    usage,
    state: fc.constantFrom('pending' as const, 'active' as const, 'legacy' as const),
    label: text(127),
  }),
  [MessageTypes.KeyCommandRejectedV1]: fc.record({ commandType: text(128), reason: text(512) }),
  [MessageTypes.AuditRecordAppendedV1]: fc.record({
    sequence: fc.integer({ min: 1, max: 2 ** 31 }),
    previousHash: hex64,
    recordHash: hex64,
    recordedMessageId: uuid7,
    recordedType: text(128),
    recordedSource: text(128),
    recordedSubject: text(256),
    recordedActor: text(160),
    recordedTime: isoTime,
  }),
  [MessageTypes.CryptoOperationRecordedV1]: fc.record(
    {
      operation: fc.constantFrom(...cryptoOperationSchema.options),
      caller: text(256),
      keyAlias: alias,
      keyVersion: fc.integer({ min: 1, max: 1_000_000 }),
      clusterId: fc.stringMatching(/^cluster-[a-z0-9]{11}$/),
      outcome: fc.constantFrom(...operationOutcomeSchema.options),
      latencyMicros: fc.integer({ min: 0, max: 2 ** 31 }),
      attempts: fc.integer({ min: 0, max: 10 }),
      items: fc.integer({ min: 1, max: 1024 }),
    },
    { requiredKeys: ['operation', 'caller', 'outcome', 'latencyMicros', 'attempts', 'items'] },
  ),
  [MessageTypes.GatewayBreakerStateChangedV1]: fc.record({
    clusterId: fc.stringMatching(/^cluster-[a-z0-9]{11}$/),
    from: fc.constantFrom('closed' as const, 'open' as const, 'half-open' as const),
    to: fc.constantFrom('closed' as const, 'open' as const, 'half-open' as const),
    errorPercentage: fc.double({ min: 0, max: 100, noNaN: true }),
  }),
  [MessageTypes.KeyStateChangedV1]: fc.record({ alias, currentVersion: fc.integer({ min: 1, max: 1000 }), enabled: fc.boolean() }),
  [MessageTypes.CryptoUserSwitchedV1]: fc.record(
    { clusterId: fc.stringMatching(/^cluster-[a-z0-9]{11}$/), secretId: text(512), tokenLabel: fc.stringMatching(/^[a-z0-9/-]{1,32}$/) },
    { requiredKeys: ['clusterId', 'secretId'] },
  ),
  [MessageTypes.RoutingWeightsChangedV1]: fc.record({
    ring: fc.stringMatching(/^[a-z][a-z0-9-]{0,30}$/),
    weights: fc.dictionary(fc.stringMatching(/^cluster-[a-z0-9]{11}$/), fc.integer({ min: 0, max: 1000 }), { minKeys: 1, maxKeys: 4 }),
  }),
  [MessageTypes.GatewayAdminActionRecordedV1]: fc.record(
    {
      action: fc.constantFrom(...gatewayAdminActionSchema.options),
      caller: text(256),
      clusterId: fc.stringMatching(/^cluster-[a-z0-9]{11}$/),
      keyAlias: alias,
      keyVersion: fc.integer({ min: 1, max: 1_000_000 }),
      username: fc.stringMatching(/^[a-z][a-z0-9_]{0,30}$/),
      outcome: fc.constantFrom(...operationOutcomeSchema.options),
      latencyMicros: fc.integer({ min: 0, max: 2 ** 31 }),
    },
    { requiredKeys: ['action', 'caller', 'outcome', 'latencyMicros'] },
  ),
};

/** Any valid keyfleet message, of any known type. */
export const messageArbitrary: fc.Arbitrary<AnyMessage> = fc
  .constantFrom(...(Object.values(MessageTypes) as MessageType[]))
  .chain((type) =>
    fc.record({
      id: uuid7,
      type: fc.constant(type),
      source: text(128),
      subject: text(256),
      time: isoTime,
      specVersion: fc.constant(SPEC_VERSION),
      correlationId: uuid7,
      causationId: fc.option(uuid7, { nil: null }),
      actor: fc.record({
        kind: fc.constantFrom('operator' as const, 'service' as const, 'application' as const, 'system' as const),
        id: fc.stringMatching(/^[A-Za-z0-9._@:/-]{1,128}$/),
      }),
      data: payloads[type] as fc.Arbitrary<unknown>,
    }),
  ) as fc.Arbitrary<AnyMessage>;

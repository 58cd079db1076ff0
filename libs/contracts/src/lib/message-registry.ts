import type { z } from 'zod';
import { auditRecordAppendedV1Schema } from './messages/audit.messages';
import { cryptoOperationRecordedV1Schema, gatewayAdminActionRecordedV1Schema, gatewayBreakerStateChangedV1Schema } from './messages/gateway.messages';
import {
  keyCommandRejectedV1Schema,
  keyCreateRequestedV1Schema,
  keyRegisteredV1Schema,
  keyStateChangedV1Schema,
} from './messages/key.messages';
import { routingWeightsChangedV1Schema } from './messages/migration.messages';
import { cryptoUserSwitchedV1Schema } from './messages/rotation.messages';
import { Topics, type Topic } from './topics';

/**
 * Message types on the wire.
 *
 * WARNING: a message type is a wire contract: never rename one or change its payload
 * incompatibly. A breaking change is a new type with the next version (`...v2`).
 */
export const MessageTypes = Object.freeze({
  KeyCreateRequestedV1: 'keyfleet.key.create-requested.v1',
  KeyRegisteredV1: 'keyfleet.key.registered.v1',
  KeyCommandRejectedV1: 'keyfleet.key.command-rejected.v1',
  KeyStateChangedV1: 'keyfleet.key.state-changed.v1',
  CryptoUserSwitchedV1: 'keyfleet.rotation.crypto-user-switched.v1',
  RoutingWeightsChangedV1: 'keyfleet.migration.routing-weights-changed.v1',
  AuditRecordAppendedV1: 'keyfleet.audit.record-appended.v1',
  CryptoOperationRecordedV1: 'keyfleet.crypto.operation-recorded.v1',
  GatewayBreakerStateChangedV1: 'keyfleet.gateway.breaker-state-changed.v1',
  GatewayAdminActionRecordedV1: 'keyfleet.gateway.admin-action-recorded.v1',
} as const);

export type MessageType = (typeof MessageTypes)[keyof typeof MessageTypes];

interface MessageDefinition<S extends z.ZodTypeAny> {
  readonly topic: Topic;
  readonly schema: S;
}

/** For each message type: the topic it travels on and the schema of its `data`. */
export const MESSAGE_REGISTRY = Object.freeze({
  [MessageTypes.KeyCreateRequestedV1]: { topic: Topics.KeyCommands, schema: keyCreateRequestedV1Schema },
  [MessageTypes.KeyRegisteredV1]: { topic: Topics.KeyEvents, schema: keyRegisteredV1Schema },
  [MessageTypes.KeyCommandRejectedV1]: { topic: Topics.KeyEvents, schema: keyCommandRejectedV1Schema },
  [MessageTypes.KeyStateChangedV1]: { topic: Topics.KeyEvents, schema: keyStateChangedV1Schema },
  [MessageTypes.CryptoUserSwitchedV1]: { topic: Topics.RotationEvents, schema: cryptoUserSwitchedV1Schema },
  [MessageTypes.RoutingWeightsChangedV1]: { topic: Topics.MigrationEvents, schema: routingWeightsChangedV1Schema },
  [MessageTypes.AuditRecordAppendedV1]: { topic: Topics.AuditRecords, schema: auditRecordAppendedV1Schema },
  [MessageTypes.CryptoOperationRecordedV1]: { topic: Topics.CryptoOps, schema: cryptoOperationRecordedV1Schema },
  [MessageTypes.GatewayBreakerStateChangedV1]: { topic: Topics.GatewayEvents, schema: gatewayBreakerStateChangedV1Schema },
  [MessageTypes.GatewayAdminActionRecordedV1]: { topic: Topics.GatewayEvents, schema: gatewayAdminActionRecordedV1Schema },
} satisfies { readonly [T in MessageType]: MessageDefinition<z.ZodTypeAny> });

/** The payload (`data`) type of each message type. */
export type MessagePayloads = {
  [T in MessageType]: z.output<(typeof MESSAGE_REGISTRY)[T]['schema']>;
};

/** True when `type` is a message type this build knows. */
export function isMessageType(type: string): type is MessageType {
  return Object.prototype.hasOwnProperty.call(MESSAGE_REGISTRY, type);
}

/** The topic a message of `type` is published on. */
export function topicOf(type: MessageType): Topic {
  return MESSAGE_REGISTRY[type].topic;
}

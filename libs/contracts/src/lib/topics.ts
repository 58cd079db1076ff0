/**
 * Kafka topic names.
 *
 * WARNING: these names are a wire contract shared by every keyfleet service and by
 * consumers outside keyfleet (compliance pipelines read `keyfleet.audit.records.v1`).
 * Never rename one; add a `.v2` topic and migrate instead.
 */
export const Topics = Object.freeze({
  KeyCommands: 'keyfleet.key.commands.v1',
  KeyEvents: 'keyfleet.key.events.v1',
  RotationCommands: 'keyfleet.rotation.commands.v1',
  RotationEvents: 'keyfleet.rotation.events.v1',
  MigrationCommands: 'keyfleet.migration.commands.v1',
  MigrationEvents: 'keyfleet.migration.events.v1',
  GatewayEvents: 'keyfleet.gateway.events.v1',
  CryptoOps: 'keyfleet.crypto.ops.v1',
  AuditRecords: 'keyfleet.audit.records.v1',
} as const);

export type Topic = (typeof Topics)[keyof typeof Topics];

/** Every topic keyfleet provisions, dead-letter topics excluded. */
export const ALL_TOPICS: readonly Topic[] = Object.freeze(Object.values(Topics));

const DLQ_SUFFIX = '.dlq';

/** The dead-letter topic of `topic`: a message that cannot be processed goes there with its reason. */
export function dlqTopic(topic: string): string {
  return `${topic}${DLQ_SUFFIX}`;
}

/** True when `topic` names a dead-letter topic. */
export function isDlqTopic(topic: string): boolean {
  return topic.endsWith(DLQ_SUFFIX);
}

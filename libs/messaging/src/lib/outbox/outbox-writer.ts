import type { EntityManager } from 'typeorm';
import { encodeMessage, topicOf, type Message } from '@keyfleet/contracts';

/**
 * Queues messages in the outbox inside the caller's transaction, so the state change and
 * the events it causes commit or roll back together. Messages are validated here: an
 * invalid message fails the transaction instead of reaching a consumer.
 *
 * @param topicPrefix prepended to every topic name: isolates test suites and local
 *   environments sharing one broker ('' in production).
 */
export async function appendToOutbox(em: EntityManager, messages: readonly Message[], topicPrefix = ''): Promise<void> {
  if (messages.length === 0) return;
  const ids: string[] = [];
  const types: string[] = [];
  const correlations: string[] = [];
  const topics: string[] = [];
  const keys: string[] = [];
  const payloads: Buffer[] = [];
  for (const message of messages) {
    ids.push(message.id);
    types.push(message.type);
    correlations.push(message.correlationId);
    topics.push(`${topicPrefix}${topicOf(message.type)}`);
    keys.push(message.subject);
    payloads.push(encodeMessage(message));
  }
  // One statement for the whole list; unnest keeps the list order, so seq follows it.
  await em.query(
    `INSERT INTO outbox (message_id, message_type, correlation_id, topic, message_key, payload)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::bytea[])`,
    [ids, types, correlations, topics, keys, payloads],
  );
}

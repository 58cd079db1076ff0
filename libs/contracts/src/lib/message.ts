import { v7 as uuidv7 } from 'uuid';
import { SPEC_VERSION, type Actor } from './envelope.schema';
import type { MessagePayloads, MessageType } from './message-registry';

/** A keyfleet message: the envelope with `data` typed by `type`. */
export interface Message<T extends MessageType = MessageType> {
  readonly id: string;
  readonly type: T;
  /** The emitting service or tool, e.g. `key-service`, `keyfleet-cli`. */
  readonly source: string;
  /** The aggregate the message is about (key alias, cluster id, migration id); also the Kafka message key. */
  readonly subject: string;
  /** ISO-8601 UTC with milliseconds. */
  readonly time: string;
  readonly specVersion: typeof SPEC_VERSION;
  /** The id of the command that started this chain of messages (its own id for a command). */
  readonly correlationId: string;
  /** The id of the message that directly caused this one; null for a command from outside. */
  readonly causationId: string | null;
  readonly actor: Actor;
  readonly data: MessagePayloads[T];
}

/** A message of any known type, discriminated by `type`. */
export type AnyMessage = { [T in MessageType]: Message<T> }[MessageType];

export interface NewMessage<T extends MessageType> {
  readonly type: T;
  readonly source: string;
  readonly subject: string;
  readonly actor: Actor;
  readonly data: MessagePayloads[T];
  /** The message this one answers or follows from; correlation and causation are taken from it. */
  readonly causedBy?: Pick<Message, 'id' | 'correlationId'>;
}

/**
 * Builds a message with a fresh UUIDv7 id and the current time. A message caused by
 * another inherits its correlation id; a new command starts its own correlation.
 */
export function createMessage<T extends MessageType>(init: NewMessage<T>, now: Date = new Date()): Message<T> {
  const id = uuidv7({ msecs: now.getTime() });
  return {
    id,
    type: init.type,
    source: init.source,
    subject: init.subject,
    time: now.toISOString(),
    specVersion: SPEC_VERSION,
    correlationId: init.causedBy?.correlationId ?? id,
    causationId: init.causedBy?.id ?? null,
    actor: init.actor,
    data: init.data,
  };
}

export { ContractsException, ContractsExceptionCode } from './lib/contracts.exception';
export { SPEC_VERSION, UUID_V7, actorSchema, envelopeSchema, type Actor, type EnvelopeFields } from './lib/envelope.schema';
export { createMessage, type AnyMessage, type Message, type NewMessage } from './lib/message';
export { DEFAULT_MAX_MESSAGE_BYTES, decodeMessage, encodeMessage, parseMessage, type DecodeResult } from './lib/message.codec';
export { MESSAGE_REGISTRY, MessageTypes, isMessageType, topicOf, type MessagePayloads, type MessageType } from './lib/message-registry';
export * from './lib/messages/audit.messages';
export * from './lib/messages/gateway.messages';
export * from './lib/messages/key.messages';
export { ALL_TOPICS, Topics, dlqTopic, isDlqTopic, type Topic } from './lib/topics';

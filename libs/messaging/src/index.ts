export { WakeableSleep, fullJitterDelay, type BackoffPolicy } from './lib/backoff';
export { DeadLetterHeaders, deadLetterRecord, type DeadLetterCause } from './lib/inbox/dead-letter';
export { InboxConsumer, type HandlerContext, type InboxConsumerOptions, type MessageHandler } from './lib/inbox/inbox-consumer';
export {
  createKafkaClient,
  kafkaClient,
  PATIENT_RETRIES,
  QUICK_RETRIES,
  type KafkaClientOptions,
  type KafkaConnectionSettings,
  type KafkaLog,
  type KafkaRetry,
} from './lib/kafka/kafka-client';
export { MessagePublisher, type MessagePublisherOptions, type OutgoingRecord, type PublisherMetrics } from './lib/kafka/message-publisher';
export { WorkerPublisher, type WorkerPublisherOptions } from './lib/kafka/worker-publisher';
export { provisionTopics, type TopicSettings } from './lib/kafka/topic-provisioner';
export { MessagingException, MessagingExceptionCode } from './lib/messaging.exception';
export { MessagingMetrics } from './lib/messaging.metrics';
export { MessagingTables1763800000000 } from './lib/migrations/messaging-tables.migration';
export { OutboxRelay, type OutboxRelayOptions } from './lib/outbox/outbox-relay';
export { appendToOutbox } from './lib/outbox/outbox-writer';
export { MessagingRuntime, type MessagingRuntimeOptions } from './lib/messaging-runtime';
export { SpooledPublisher, type RecordPublisher, type SpooledPublisherOptions } from './lib/spool/spooled-publisher';
export { SpoolMetrics, type SpoolFailureKind } from './lib/spool/spool.metrics';

import type { Kafka } from 'kafkajs';
import { dlqTopic } from '@keyfleet/contracts';
import { MessagingException, MessagingExceptionCode } from '../messaging.exception';

export interface TopicSettings {
  readonly partitions: number;
  readonly replicationFactor: number;
  /**
   * Topic-level configuration by full topic name, applied when the topic is created (an
   * existing topic keeps its own), e.g. `{ 'compression.type': 'lz4' }`.
   */
  readonly configs?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/**
 * Creates the given topics and their dead-letter topics when missing (existing topics are
 * left as they are). Runs at service start-up, so auto-creation can stay off on the broker.
 *
 * @returns the names of the topics that were created now.
 */
export async function provisionTopics(kafka: Kafka, topics: readonly string[], settings: TopicSettings): Promise<string[]> {
  const wanted = [...new Set(topics.flatMap((t) => [t, dlqTopic(t)]))];
  const admin = kafka.admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: settings.partitions,
          replicationFactor: settings.replicationFactor,
          configEntries: Object.entries(settings.configs?.[topic] ?? {}).map(([name, value]) => ({ name, value })),
        })),
      });
    }
    return missing;
  } catch (err) {
    throw new MessagingException(MessagingExceptionCode.ProvisioningFailed, `cannot provision ${wanted.length} topics`, {
      cause: err,
    });
  } finally {
    await admin.disconnect();
  }
}

import type { Admin, Kafka } from 'kafkajs';
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

const READY_TIMEOUT_MS = 30_000;
const READY_POLL_MS = 100;

/**
 * Creates the given topics and their dead-letter topics when missing (existing topics are
 * left as they are), and returns once every partition of every one of them answers its leader's
 * offset request. Runs at service start-up, so auto-creation can stay off on the broker.
 *
 * The wait covers topics another process is creating at the same moment (two services starting
 * together): kafkajs's `createTopics` skips its own wait for leaders when any topic of the
 * request already existed, and clients that read offsets next (`fetchTopicOffsets`) give up at
 * once on "not the leader for that topic-partition".
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
    await untilLeadersAnswer(admin, wanted);
    return missing;
  } catch (err) {
    throw new MessagingException(MessagingExceptionCode.ProvisioningFailed, `cannot provision ${wanted.length} topics`, {
      cause: err,
    });
  } finally {
    await admin.disconnect();
  }
}

/** Polls each topic's end offsets until all of them answer, or fails after READY_TIMEOUT_MS. */
async function untilLeadersAnswer(admin: Admin, topics: readonly string[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      await Promise.all(topics.map((topic) => admin.fetchTopicOffsets(topic)));
      return;
    } catch (err) {
      if (Date.now() > deadline) {
        throw new MessagingException(MessagingExceptionCode.ProvisioningFailed, `topic leaders did not answer within ${READY_TIMEOUT_MS} ms`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
  }
}

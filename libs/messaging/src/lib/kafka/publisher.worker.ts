// The program of a publisher thread (started by `WorkerPublisher`): owns one kafkajs producer
// (`MessagePublisher`), so encoding record batches and talking to the brokers costs the
// service's event loop nothing. Answers every request with what it counted meanwhile and
// forwards kafkajs's log entries to the service's logger.
import { parentPort, workerData } from 'node:worker_threads';
import { kafkaClient } from './kafka-client';
import { MessagePublisher, type PublisherMetrics } from './message-publisher';
import {
  threadErrorOf,
  unpackRecords,
  type FromPublisherThread,
  type PublisherCounts,
  type PublisherThreadSettings,
  type ToPublisherThread,
} from './publisher-thread.protocol';

const port = parentPort;
if (!port) throw new Error('publisher.worker runs only as a worker thread');
const settings = workerData as PublisherThreadSettings;

/** Counts since the last answer. */
class Tally implements PublisherMetrics {
  private publishedByTopic = new Map<string, number>();
  private renewalCount = 0;
  readonly published = { inc: (labels: { topic: string }, value: number) => this.publishedByTopic.set(labels.topic, (this.publishedByTopic.get(labels.topic) ?? 0) + value) };
  readonly producerRenewals = { inc: () => (this.renewalCount += 1) };

  take(): PublisherCounts {
    const counts = { published: [...this.publishedByTopic], renewals: this.renewalCount };
    this.publishedByTopic = new Map();
    this.renewalCount = 0;
    return counts;
  }
}

const tally = new Tally();
const post = (message: FromPublisherThread) => port.postMessage(message);
const kafka = kafkaClient(settings.kafka, (level, message, fields) => {
  try {
    post({ type: 'log', level, message, fields });
  } catch {
    // A field that cannot be cloned: the entry as text rather than not at all.
    post({ type: 'log', level, message, fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])) });
  }
});
const publisher = new MessagePublisher(kafka, tally, settings.publisher);

port.on('message', (request: ToPublisherThread) => {
  const work =
    request.type === 'connect' ? publisher.connect() : request.type === 'publish' ? publisher.publish(unpackRecords(request.records)) : publisher.disconnect();
  work.then(
    () => post({ type: 'done', id: request.id, counts: tally.take() }),
    (err: unknown) => post({ type: 'failed', id: request.id, error: threadErrorOf(err), counts: tally.take() }),
  );
});

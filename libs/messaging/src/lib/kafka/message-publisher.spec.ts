import { CompressionTypes, type Kafka, type ProducerBatch } from 'kafkajs';
import { Registry } from 'prom-client';
import { MessagingException } from '../messaging.exception';
import { MessagingMetrics } from '../messaging.metrics';
import { MessagePublisher, type MessagePublisherOptions } from './message-publisher';

/** A producer that records what it was asked to send. */
function fakeKafka(fail = false): { kafka: Pick<Kafka, 'producer'>; batches: ProducerBatch[] } {
  const batches: ProducerBatch[] = [];
  const producer = {
    connect: () => Promise.resolve(),
    disconnect: () => Promise.resolve(),
    sendBatch: (batch: ProducerBatch) => {
      batches.push(batch);
      return fail ? Promise.reject(new Error('broker gone')) : Promise.resolve([]);
    },
  };
  return { kafka: { producer: () => producer as never }, batches };
}

async function publishOne(options?: MessagePublisherOptions, fail = false) {
  const { kafka, batches } = fakeKafka(fail);
  const registry = new Registry();
  const sut = new MessagePublisher(kafka, new MessagingMetrics(registry), options);
  await sut.connect();
  const outcome = sut.publish([
    { topic: 't1', key: 'a', value: Buffer.from('1') },
    { topic: 't2', key: 'b', value: Buffer.from('2') },
    { topic: 't1', key: 'c', value: Buffer.from('3'), headers: { h: 'v' } },
  ]);
  return { outcome, batches, registry };
}

describe('MessagePublisher', () => {
  it('compresses with gzip unless told otherwise, and waits for all in-sync replicas', async () => {
    const { outcome, batches } = await publishOne();
    await outcome;
    expect(batches).toHaveLength(1);
    expect(batches[0]).toMatchObject({ acks: -1, compression: CompressionTypes.GZIP });
  });

  it('sends batches uncompressed when compression is none', async () => {
    const { outcome, batches } = await publishOne({ compression: 'none' });
    await outcome;
    expect(batches[0]?.compression).toBe(CompressionTypes.None);
  });

  it('groups records by topic in the order given and counts them per topic once acknowledged', async () => {
    const { outcome, batches, registry } = await publishOne();
    await outcome;
    expect(batches[0]?.topicMessages).toEqual([
      { topic: 't1', messages: [{ key: 'a', value: Buffer.from('1'), headers: {} }, { key: 'c', value: Buffer.from('3'), headers: { h: 'v' } }] },
      { topic: 't2', messages: [{ key: 'b', value: Buffer.from('2'), headers: {} }] },
    ]);
    const counts = (await registry.getSingleMetric('keyfleet_messages_published_total')?.get())?.values.map((v) => [v.labels['topic'], v.value]);
    expect(counts).toEqual([
      ['t1', 2],
      ['t2', 1],
    ]);
  });

  it('reports a failed send as PublishFailed and counts nothing', async () => {
    const { outcome, registry } = await publishOne({}, true);
    await expect(outcome).rejects.toThrow(MessagingException);
    await expect(outcome).rejects.toThrow('publishing 3 records failed');
    expect((await registry.getSingleMetric('keyfleet_messages_published_total')?.get())?.values).toEqual([]);
  });

  it('refuses to publish before connect', async () => {
    const sut = new MessagePublisher(fakeKafka().kafka, new MessagingMetrics(new Registry()));
    await expect(sut.publish([{ topic: 't', key: 'k', value: Buffer.from('x') }])).rejects.toThrow('publisher is not connected');
  });
});

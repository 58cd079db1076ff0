import { CompressionTypes, KafkaJSNonRetriableError, KafkaJSProtocolError, type Kafka, type ProducerBatch } from 'kafkajs';
import { Registry } from 'prom-client';
import { MessagingException } from '../messaging.exception';
import { MessagingMetrics } from '../messaging.metrics';
import { MessagePublisher, lostProducerState, type MessagePublisherOptions } from './message-publisher';

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

  describe('when the broker lost track of the producer', () => {
    /** A broker answer as kafkajs builds it (its types declare only the Error part of the argument). */
    const protocolError = (type: string, retriable = false) => {
      const answer = { name: 'KafkaJSProtocolError', message: `broker answered ${type}`, type, code: 0, retriable };
      return new KafkaJSProtocolError(answer);
    };
    /** How kafkajs 2.2 reports an out-of-order sequence number: a protocol error wrapped by its retrier. */
    const outOfOrder = () => {
      const answer = protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER');
      // The retrier passes the cause as a second argument, which kafkajs's types leave out.
      return Object.assign(new KafkaJSNonRetriableError(answer), { cause: answer });
    };

    /** Producers made on demand; each fails its sends with what `failures` hands it, in turn. */
    function producerFactory(failures: Array<(() => Error) | undefined>, connectFailures = 0) {
      const made: Array<{ id: number; sent: number; connected: boolean; disconnected: boolean }> = [];
      let toFailConnect = connectFailures;
      const kafka = {
        producer: () => {
          const state = { id: made.length + 1, sent: 0, connected: false, disconnected: false };
          made.push(state);
          return {
            connect: () => {
              if (state.id > 1 && toFailConnect-- > 0) return Promise.reject(new Error('broker gone'));
              state.connected = true;
              return Promise.resolve();
            },
            disconnect: () => {
              state.disconnected = true;
              return Promise.resolve();
            },
            sendBatch: () => {
              const failure = failures.shift();
              if (failure) return Promise.reject(failure());
              state.sent += 1;
              return Promise.resolve([]);
            },
          } as never;
        },
      };
      return { kafka: kafka as Pick<Kafka, 'producer'>, made };
    }
    const record = { topic: 't', key: 'k', value: Buffer.from('x') };

    it('recognises the sequence and producer-id answers through the causes kafkajs wraps them in', () => {
      expect(lostProducerState(outOfOrder())).toBe(true);
      for (const type of ['UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']) {
        expect(lostProducerState(new Error('outer', { cause: protocolError(type) }))).toBe(true);
      }
      expect(lostProducerState(protocolError('NOT_LEADER_FOR_PARTITION', true))).toBe(false);
      expect(lostProducerState(new Error('broker gone'))).toBe(false);
      expect(lostProducerState('OUT_OF_ORDER_SEQUENCE_NUMBER')).toBe(false);
    });

    it('publishes the next batch through a new producer and disconnects the old one', async () => {
      const { kafka, made } = producerFactory([outOfOrder]);
      const registry = new Registry();
      const sut = new MessagePublisher(kafka, new MessagingMetrics(registry));
      await sut.connect();
      await expect(sut.publish([record])).rejects.toThrow('publishing 1 records failed');
      await sut.publish([record]);
      await sut.publish([record]);
      expect(made.map(({ id, sent, connected, disconnected }) => ({ id, sent, connected, disconnected }))).toEqual([
        { id: 1, sent: 0, connected: true, disconnected: true },
        { id: 2, sent: 2, connected: true, disconnected: false },
      ]);
      expect((await registry.getSingleMetric('keyfleet_producer_renewals_total')?.get())?.values[0]?.value).toBe(1);
    });

    it('keeps its producer after other failures, and renews once for concurrent publishes', async () => {
      const { kafka, made } = producerFactory([() => new Error('broker gone'), outOfOrder]);
      const sut = new MessagePublisher(kafka, new MessagingMetrics(new Registry()));
      await sut.connect();
      await expect(sut.publish([record])).rejects.toThrow('publishing 1 records failed');
      await expect(sut.publish([record])).rejects.toThrow('publishing 1 records failed');
      expect(made).toHaveLength(1);
      await Promise.all([sut.publish([record]), sut.publish([record]), sut.publish([record])]);
      expect(made.map((p) => p.sent)).toEqual([0, 3]);
    });

    it('fails the publish when the new producer cannot connect, and tries another on the next', async () => {
      const { kafka, made } = producerFactory([outOfOrder], 1);
      const sut = new MessagePublisher(kafka, new MessagingMetrics(new Registry()));
      await sut.connect();
      await expect(sut.publish([record])).rejects.toThrow('publishing 1 records failed');
      await expect(sut.publish([record])).rejects.toThrow('connecting a new producer failed');
      await sut.publish([record]);
      expect(made.map((p) => [p.sent, p.disconnected])).toEqual([
        [0, true],
        [0, true],
        [1, false],
      ]);
    });
  });
});

import { MessagingException, MessagingExceptionCode } from '../messaging.exception';
import { lostProducerState, type OutgoingRecord } from './message-publisher';
import { errorOfThread, packRecords, threadErrorOf, unpackRecords } from './publisher-thread.protocol';

describe(packRecords.name, () => {
  it('carries only the bytes of each value, also of values that are views into a larger buffer', () => {
    const slab = Buffer.alloc(8_192, 7);
    const records: OutgoingRecord[] = [
      { topic: 't.ops', key: 'alias-a', value: slab.subarray(100, 140) },
      { topic: 't.ops', key: 'alias-b', value: Buffer.from('{"id":"2"}'), headers: { 'keyfleet-id': '2' } },
      { topic: 't.events', key: 'c1', value: Buffer.alloc(0) },
    ];

    const sut = packRecords(records);

    expect(sut.bytes.byteLength).toBe(40 + 10);
    expect(sut.ends).toEqual([40, 50, 50]);
    expect(unpackRecords(sut)).toEqual(records);
  });

  it('packs no records into an empty buffer', () => {
    const sut = packRecords([]);

    expect(sut.bytes.byteLength).toBe(0);
    expect(unpackRecords(sut)).toEqual([]);
  });

  it('survives structured cloning with the buffer transferred', () => {
    const records: OutgoingRecord[] = [{ topic: 't', key: 'k', value: Buffer.from('value') }];
    const packed = packRecords(records);

    const sut = structuredClone(packed, { transfer: [packed.bytes] });

    expect(packed.bytes.byteLength).toBe(0);
    expect(unpackRecords(sut)).toEqual(records);
  });
});

describe(threadErrorOf.name, () => {
  it('keeps name, message, code, kafkajs type and causes, so a lost producer state is still recognised', () => {
    const broker = Object.assign(new Error('The broker received an out of order sequence number'), { name: 'KafkaJSProtocolError', type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    const err = new MessagingException(MessagingExceptionCode.PublishFailed, 'publishing 3 records failed', { cause: broker });

    const sut = errorOfThread(structuredClone(threadErrorOf(err)));

    expect(sut).toMatchObject({ name: 'MessagingException', message: 'PUBLISH_FAILED: publishing 3 records failed', code: 'PUBLISH_FAILED' });
    expect(sut.cause).toMatchObject({ name: 'KafkaJSProtocolError', message: broker.message, type: 'OUT_OF_ORDER_SEQUENCE_NUMBER' });
    expect(lostProducerState(sut)).toBe(true);
  });

  it('describes a thrown value that is not an error as text', () => {
    expect(threadErrorOf('broken')).toEqual({ name: 'Error', message: 'broken' });
  });

  it('stops following causes after eight levels', () => {
    let err = new Error('level 0');
    for (let i = 1; i < 20; i++) err = new Error(`level ${i}`, { cause: err });

    let depth = 0;
    for (let sut: ReturnType<typeof threadErrorOf> | undefined = threadErrorOf(err); sut; sut = sut.cause) depth += 1;

    expect(depth).toBe(8);
  });
});

import { ResilienceException, ResilienceExceptionCode } from '../resilience.exception';
import { Bulkhead } from './bulkhead';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Work that runs until the test releases it. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe(Bulkhead.name, () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('never runs more than maxConcurrent at once, and uses all of them, with many concurrent calls', async () => {
    const sut = new Bulkhead({ maxConcurrent: 7, maxQueue: 1_000 });
    let running = 0;
    let most = 0;
    const calls = Array.from({ length: 500 }, (_, i) =>
      sut.run(async () => {
        running += 1;
        most = Math.max(most, running);
        // The bulkhead counts a call until its promise settles, so it may count one that just returned.
        expect(sut.inFlight).toBeGreaterThanOrEqual(running);
        expect(sut.inFlight).toBeLessThanOrEqual(7);
        for (let t = 0; t < i % 4; t += 1) await tick();
        running -= 1;
        return i;
      }),
    );

    expect(sut.inFlight).toBe(7);
    expect(sut.queued).toBe(493);
    await expect(Promise.all(calls)).resolves.toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(most).toBe(7);
    expect(sut.inFlight).toBe(0);
    expect(sut.queued).toBe(0);
  });

  it('starts queued calls first in, first out', async () => {
    const sut = new Bulkhead({ maxConcurrent: 2, maxQueue: 50 });
    const started: number[] = [];

    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        sut.run(async () => {
          started.push(i);
          // Uneven durations, so slots free up in a different order than they were taken.
          for (let t = 0; t < (i * 7) % 5; t += 1) await tick();
        }),
      ),
    );

    expect(started).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });

  it('refuses at once when the queue is full, without running the work', async () => {
    const sut = new Bulkhead({ maxConcurrent: 1, maxQueue: 2 });
    const blocker = gate();
    const first = sut.run(() => blocker.promise);
    const queued = [sut.run(() => Promise.resolve('a')), sut.run(() => Promise.resolve('b'))];
    let ran = false;

    const refused = await sut
      .run(() => {
        ran = true;
        return Promise.resolve('c');
      })
      .catch((err: unknown) => err);

    expect(refused).toBeInstanceOf(ResilienceException);
    expect(refused).toMatchObject({ code: ResilienceExceptionCode.BulkheadFull });
    expect(ran).toBe(false);
    expect(sut.queued).toBe(2);
    blocker.open();
    await expect(Promise.all([first, ...queued])).resolves.toEqual([undefined, 'a', 'b']);
  });

  it('refuses a call that would have to queue when maxQueue is 0', async () => {
    const sut = new Bulkhead({ maxConcurrent: 1, maxQueue: 0 });
    const blocker = gate();
    const first = sut.run(() => blocker.promise);

    await expect(sut.run(() => Promise.resolve())).rejects.toMatchObject({ code: ResilienceExceptionCode.BulkheadFull });
    blocker.open();
    await first;
  });

  it('gives up on a queued call after its queue timeout, and the slot goes to the next in line', async () => {
    jest.useFakeTimers();
    const sut = new Bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 100 });
    const blocker = gate();
    const first = sut.run(() => blocker.promise);
    let timedOutRan = false;
    const timedOut = sut
      .run(() => {
        timedOutRan = true;
        return Promise.resolve();
      })
      .catch((err: unknown) => err);

    jest.advanceTimersByTime(99);
    expect(sut.queued).toBe(1);
    jest.advanceTimersByTime(1);

    await expect(timedOut).resolves.toMatchObject({ code: ResilienceExceptionCode.QueueTimeout });
    expect(sut.queued).toBe(0);
    const later = sut.run(() => Promise.resolve('later'));
    blocker.open();
    await expect(later).resolves.toBe('later');
    await first;
    expect(timedOutRan).toBe(false);
    expect(sut.inFlight).toBe(0);
  });

  it('gives up on a queued call at its deadline when that comes before the queue timeout', async () => {
    jest.useFakeTimers({ now: 10_000 });
    const sut = new Bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 1_000 });
    const blocker = gate();
    const first = sut.run(() => blocker.promise);
    const queued = sut.run(() => Promise.resolve(), { deadline: 10_030 }).catch((err: unknown) => err);

    jest.advanceTimersByTime(30);

    await expect(queued).resolves.toMatchObject({ code: ResilienceExceptionCode.QueueTimeout });
    blocker.open();
    await first;
  });

  it('refuses a call whose deadline has already passed without taking a slot', async () => {
    const sut = new Bulkhead({ maxConcurrent: 1, maxQueue: 1, now: () => 500 });

    await expect(sut.run(() => Promise.resolve(), { deadline: 500 })).rejects.toMatchObject({ code: ResilienceExceptionCode.DeadlineExceeded });
    expect(sut.inFlight).toBe(0);
  });

  it('frees the slot when the work fails, asynchronously or synchronously', async () => {
    const sut = new Bulkhead({ maxConcurrent: 1, maxQueue: 0 });

    await expect(sut.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(
      sut.run(() => {
        throw new Error('sync boom');
      }),
    ).rejects.toThrow('sync boom');
    await expect(sut.run(() => Promise.resolve('next'))).resolves.toBe('next');
    expect(sut.inFlight).toBe(0);
  });

  it('on close fails queued calls, lets in-flight ones finish, refuses new ones and leaves no timer', async () => {
    jest.useFakeTimers();
    const sut = new Bulkhead({ maxConcurrent: 1, maxQueue: 5, queueTimeoutMs: 60_000 });
    const blocker = gate();
    const first = sut.run(() => blocker.promise.then(() => 'finished'));
    const queued = [sut.run(() => Promise.resolve()), sut.run(() => Promise.resolve())].map((p) => p.catch((err: unknown) => err));
    expect(jest.getTimerCount()).toBe(2);

    sut.close();

    expect(jest.getTimerCount()).toBe(0);
    await expect(Promise.all(queued)).resolves.toEqual([
      expect.objectContaining({ code: ResilienceExceptionCode.Closed }),
      expect.objectContaining({ code: ResilienceExceptionCode.Closed }),
    ]);
    await expect(sut.run(() => Promise.resolve())).rejects.toMatchObject({ code: ResilienceExceptionCode.Closed });
    blocker.open();
    await expect(first).resolves.toBe('finished');
    expect(sut.inFlight).toBe(0);
  });

  it('rejects nonsensical limits', () => {
    expect(() => new Bulkhead({ maxConcurrent: 0, maxQueue: 1 })).toThrow(RangeError);
    expect(() => new Bulkhead({ maxConcurrent: 1.5, maxQueue: 1 })).toThrow(RangeError);
    expect(() => new Bulkhead({ maxConcurrent: 1, maxQueue: -1 })).toThrow(RangeError);
  });
});

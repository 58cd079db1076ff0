import { WakeableSleep, fullJitterDelay } from './backoff';

describe(fullJitterDelay.name, () => {
  const policy = { baseMs: 100, capMs: 5_000 };

  it('grows the ceiling exponentially with the attempt', () => {
    const almostOne = () => 0.999_999;
    expect(fullJitterDelay(0, policy, almostOne)).toBe(99);
    expect(fullJitterDelay(3, policy, almostOne)).toBe(799);
  });

  it('never exceeds the cap', () => {
    expect(fullJitterDelay(30, policy, () => 0.999_999)).toBe(4_999);
  });

  it('can be zero, so retries spread over the whole window', () => {
    expect(fullJitterDelay(5, policy, () => 0)).toBe(0);
  });
});

describe(WakeableSleep.name, () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('ends early when woken, without the timer firing', async () => {
    const sut = new WakeableSleep();
    const sleeping = sut.sleep(60_000);
    sut.wake();
    await expect(sleeping).resolves.toBeUndefined();
    expect(jest.getTimerCount()).toBe(0);
  });

  it('ends when the time is up', async () => {
    const sut = new WakeableSleep();
    const sleeping = sut.sleep(1_000);
    jest.advanceTimersByTime(1_000);
    await expect(sleeping).resolves.toBeUndefined();
  });
});

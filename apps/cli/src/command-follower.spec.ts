import { describeError, followWithRetries, type FollowOutcome } from './command-follower';

const timedOut: FollowOutcome = { status: 'timed-out', waitingFor: 'an answer from the owning service' };
const rejected: FollowOutcome = { status: 'rejected', reason: 'a key with alias x already exists' };

describe('followWithRetries', () => {
  it('tries again after a thrown error, telling of each retry, and returns the outcome of the try that worked', async () => {
    const failures = [new Error('There is no leader for this topic-partition'), new Error('The coordinator is loading')];
    let calls = 0;
    const told: [string, number][] = [];
    const outcome = await followWithRetries(
      () => {
        calls += 1;
        const failure = failures.shift();
        return failure ? Promise.reject(failure) : Promise.resolve(rejected);
      },
      { attempts: 3, delayMs: 1, onRetry: (err, retry) => told.push([(err as Error).message, retry]) },
    );
    expect(outcome).toBe(rejected);
    expect(calls).toBe(3);
    expect(told).toEqual([
      ['There is no leader for this topic-partition', 1],
      ['The coordinator is loading', 2],
    ]);
  });

  it('never retries an outcome, a timeout included', async () => {
    let calls = 0;
    const outcome = await followWithRetries(
      () => {
        calls += 1;
        return Promise.resolve(timedOut);
      },
      { attempts: 3, delayMs: 1, onRetry: () => undefined },
    );
    expect(outcome).toBe(timedOut);
    expect(calls).toBe(1);
  });

  it('gives up after the last attempt with the last error', async () => {
    let calls = 0;
    const follow = () => {
      calls += 1;
      return Promise.reject(new Error(`refused ${calls}`));
    };
    await expect(followWithRetries(follow, { attempts: 3, delayMs: 1, onRetry: () => undefined })).rejects.toThrow('refused 3');
    expect(calls).toBe(3);
  });
});

describe('describeError', () => {
  it('joins an error with its causes', () => {
    const err = new Error('publishing 1 records failed', { cause: new Error('Connection error', { cause: new Error('ECONNREFUSED') }) });
    expect(describeError(err)).toBe('publishing 1 records failed: Connection error: ECONNREFUSED');
  });

  it('describes what is not an Error too', () => {
    expect(describeError('broker gone')).toBe('broker gone');
  });
});

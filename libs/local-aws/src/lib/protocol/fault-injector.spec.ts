import { FaultInjector } from './fault-injector';
import { LocalAwsErrorType } from './local-aws.exception';

describe(FaultInjector.name, () => {
  const slept: number[] = [];
  const sleep = async (ms: number) => void slept.push(ms);
  let draw: number;
  let sut: FaultInjector;

  beforeEach(() => {
    slept.length = 0;
    draw = 0.5;
    sut = new FaultInjector(() => draw, sleep);
  });

  it('fails calls naming the faulty cluster and leaves other clusters alone', async () => {
    sut.set({ target: 'BaldrApiService', clusterId: 'cluster-aaaaaaaaaaa', errorRate: 1, latencyMs: 0, error: 'internal' });
    await expect(sut.apply('BaldrApiService.CreateHsm', 'us-east-1', { ClusterId: 'cluster-aaaaaaaaaaa' })).rejects.toMatchObject({
      type: LocalAwsErrorType.CloudHsmInternalFailure,
      httpStatus: 500,
    });
    await expect(sut.apply('BaldrApiService.DescribeClusters', 'us-east-1', { Filters: { clusterIds: ['cluster-aaaaaaaaaaa'] } })).rejects.toMatchObject({
      httpStatus: 500,
    });
    await expect(sut.apply('BaldrApiService.CreateHsm', 'us-east-1', { ClusterId: 'cluster-bbbbbbbbbbb' })).resolves.toBeUndefined();
  });

  it('fails with the configured probability', async () => {
    sut.set({ target: 'secretsmanager', errorRate: 0.2, latencyMs: 0, error: 'throttling' });
    draw = 0.19;
    await expect(sut.apply('secretsmanager.GetSecretValue', 'r', {})).rejects.toMatchObject({ type: LocalAwsErrorType.Throttling });
    draw = 0.2;
    await expect(sut.apply('secretsmanager.GetSecretValue', 'r', {})).resolves.toBeUndefined();
  });

  it('adds latency to matching calls only', async () => {
    sut.set({ target: 'TrentService.Sign', errorRate: 0, latencyMs: 250, error: 'internal' });
    await sut.apply('TrentService.Sign', 'r', {});
    await sut.apply('TrentService.Verify', 'r', {});
    expect(slept).toEqual([250]);
  });

  it('replaces a rule for the same target and cluster, and clears all', async () => {
    sut.set({ target: 'BaldrApiService', errorRate: 1, latencyMs: 0, error: 'internal' });
    sut.set({ target: 'BaldrApiService', errorRate: 0, latencyMs: 0, error: 'internal' });
    expect(sut.list()).toHaveLength(1);
    await expect(sut.apply('BaldrApiService.DescribeClusters', 'r', {})).resolves.toBeUndefined();
    sut.set({ target: 'BaldrApiService', errorRate: 1, latencyMs: 0, error: 'internal' });
    sut.clear();
    await expect(sut.apply('BaldrApiService.DescribeClusters', 'r', {})).resolves.toBeUndefined();
  });

  it('refuses rates outside [0, 1]', () => {
    expect(() => sut.set({ target: 'x', errorRate: 1.5, latencyMs: 0, error: 'internal' })).toThrow(RangeError);
  });
});

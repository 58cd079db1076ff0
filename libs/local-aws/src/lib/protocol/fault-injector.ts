import { LocalAwsErrorType, LocalAwsException } from './local-aws.exception';

/** A fault rule set through the admin endpoint (tests only). */
export interface FaultRule {
  /** `X-Amz-Target` prefix: `BaldrApiService`, `TrentService`, `secretsmanager`, or a full `Service.Operation`. */
  readonly target: string;
  /** Only calls naming this cluster (ClusterId, or Filters.clusterIds); any cluster when absent. */
  readonly clusterId?: string;
  readonly region?: string;
  /** Probability in [0, 1] that a matching call fails. */
  readonly errorRate: number;
  /** Delay added to every matching call, in ms. */
  readonly latencyMs: number;
  /** Internal failure (500, retryable) or throttling (400 ThrottlingException). */
  readonly error: 'internal' | 'throttling';
}

function namesCluster(input: unknown, clusterId: string): boolean {
  if (!input || typeof input !== 'object') return false;
  const body = input as { ClusterId?: unknown; Filters?: { clusterIds?: unknown } };
  if (body.ClusterId === clusterId) return true;
  return Array.isArray(body.Filters?.clusterIds) && body.Filters.clusterIds.includes(clusterId);
}

/**
 * Makes API calls of a cluster fail or slow down on demand, so callers' retries, breakers
 * and failovers can be tested against the emulator. Faults in the PKCS#11 data path are the
 * gateway's own fault injection, not this.
 */
export class FaultInjector {
  private rules: FaultRule[] = [];

  constructor(
    private readonly random: () => number = Math.random,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  set(rule: FaultRule): void {
    if (!(rule.errorRate >= 0 && rule.errorRate <= 1)) throw new RangeError('errorRate must be within [0, 1]');
    if (!(rule.latencyMs >= 0 && rule.latencyMs <= 600_000)) throw new RangeError('latencyMs must be within [0, 600000]');
    this.rules = [...this.rules.filter((r) => !(r.target === rule.target && r.clusterId === rule.clusterId && r.region === rule.region)), rule];
  }

  clear(): void {
    this.rules = [];
  }

  list(): readonly FaultRule[] {
    return this.rules;
  }

  /** The dispatcher's before-operation hook: delays and/or throws for matching calls. */
  async apply(target: string, region: string, input: unknown): Promise<void> {
    for (const rule of this.rules) {
      if (!(target === rule.target || target.startsWith(`${rule.target}.`))) continue;
      if (rule.region !== undefined && rule.region !== region) continue;
      if (rule.clusterId !== undefined && !namesCluster(input, rule.clusterId)) continue;
      if (rule.latencyMs > 0) await this.sleep(rule.latencyMs);
      if (this.random() < rule.errorRate) {
        throw rule.error === 'throttling'
          ? new LocalAwsException(LocalAwsErrorType.Throttling, 'Rate exceeded (injected fault)')
          : new LocalAwsException(LocalAwsErrorType.CloudHsmInternalFailure, 'An internal failure occurred (injected fault)', 500);
      }
    }
  }
}

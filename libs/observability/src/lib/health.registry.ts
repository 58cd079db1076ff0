/** A component's answer to "are you working?". `detail` must not contain secrets. */
export interface HealthResult {
  readonly ok: boolean;
  readonly detail?: string;
}

export interface HealthCheck {
  readonly name: string;
  check(): Promise<HealthResult> | HealthResult;
}

export interface HealthReport {
  readonly status: 'ok' | 'unavailable';
  readonly checks: Record<string, HealthResult>;
}

/** How long a check may take before it counts as failed. */
export const HEALTH_CHECK_TIMEOUT_MS = 2_000;

/** The named checks a process registers (database, consumers...), run together for `/health`. */
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();

  register(check: HealthCheck): void {
    this.checks.set(check.name, check);
  }

  async report(timeoutMs = HEALTH_CHECK_TIMEOUT_MS): Promise<HealthReport> {
    const entries = await Promise.all(
      [...this.checks.values()].map(async (c) => [c.name, await runCheck(c, timeoutMs)] as const),
    );
    const checks = Object.fromEntries(entries);
    return { status: entries.every(([, r]) => r.ok) ? 'ok' : 'unavailable', checks };
  }
}

async function runCheck(check: HealthCheck, timeoutMs: number): Promise<HealthResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<HealthResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => check.check()), timeout]);
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.name : 'check failed' };
  } finally {
    clearTimeout(timer);
  }
}

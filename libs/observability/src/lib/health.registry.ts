import type { Logger } from 'pino';
import { ObservabilityException, ObservabilityExceptionCode } from './observability.exception';

/** A component's answer to "are you working?". `detail` is served on /health: never a secret. */
export interface HealthResult {
  readonly ok: boolean;
  readonly detail?: string;
}

/** A named check a component registers (database, consumers, HSM sessions...). */
export interface HealthCheck {
  /** Unique per process; the key in the `/health` report. */
  readonly name: string;
  check(): Promise<HealthResult> | HealthResult;
}

/** What `/health` serves: `ok` only when every check passed. */
export interface HealthReport {
  readonly status: 'ok' | 'unavailable';
  readonly checks: Record<string, HealthResult>;
}

/** How long a check may take before it counts as failed. */
export const HEALTH_CHECK_TIMEOUT_MS = 2_000;

const MAX_DETAIL_LENGTH = 200;

/**
 * The named checks of one process, run together (concurrently) for `/health`. A check
 * that throws or does not answer within the timeout counts as failed, with a reason
 * scrubbed of credentials. Changes of overall status are logged once, not on every probe.
 */
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();
  private lastStatus: HealthReport['status'] | undefined;

  constructor(private readonly logger?: Logger) {}

  /**
   * Adds a check.
   *
   * @throws ObservabilityException (`DuplicateHealthCheck`) if the name is taken: two
   *   components reporting under one name would hide one of them.
   */
  register(check: HealthCheck): void {
    if (this.checks.has(check.name)) {
      throw new ObservabilityException(ObservabilityExceptionCode.DuplicateHealthCheck, `health check ${check.name} is already registered`);
    }
    this.checks.set(check.name, check);
  }

  /** Runs every check; a process with no checks is healthy once it serves HTTP. */
  async report(timeoutMs = HEALTH_CHECK_TIMEOUT_MS): Promise<HealthReport> {
    const entries = await Promise.all([...this.checks.values()].map(async (c) => [c.name, await runCheck(c, timeoutMs)] as const));
    const report: HealthReport = {
      status: entries.every(([, result]) => result.ok) ? 'ok' : 'unavailable',
      checks: Object.fromEntries(entries),
    };
    if (report.status !== this.lastStatus) {
      if (report.status === 'ok') this.logger?.info({ checks: report.checks }, 'healthy');
      else this.logger?.warn({ checks: report.checks }, 'unhealthy');
      this.lastStatus = report.status;
    }
    return report;
  }
}

async function runCheck(check: HealthCheck, timeoutMs: number): Promise<HealthResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<HealthResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, detail: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    // Promise.resolve().then(...) turns a synchronous throw into a rejection.
    return await Promise.race([Promise.resolve().then(() => check.check()), timeout]);
  } catch (err) {
    return { ok: false, detail: describeFailure(err) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The reason a check failed, fit to be served: error name, code and message, with URL
 * credentials and `password=...`-style values masked, bounded in length.
 */
export function describeFailure(err: unknown): string {
  if (!(err instanceof Error)) return 'check failed';
  const code = 'code' in err && typeof err.code === 'string' ? ` ${err.code}` : '';
  const text = `${err.name}${code}: ${err.message}`
    .replace(/([a-z][a-z0-9+.-]*:\/\/)\S*@/gi, '$1***@')
    .replace(/\b(pass(?:word|wd|phrase)?|pin|secret|token|api[-_]?key|authorization)(\s*[=:]\s*)("[^"]*"|'[^']*'|\S+)/gi, '$1$2***');
  return text.length > MAX_DETAIL_LENGTH ? `${text.slice(0, MAX_DETAIL_LENGTH)}...` : text;
}

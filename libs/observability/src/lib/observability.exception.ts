import { KeyfleetException } from '@keyfleet/errors';

/** What went wrong while wiring logs, metrics or health checks. */
export enum ObservabilityExceptionCode {
  /** Two components registered a health check under the same name. */
  DuplicateHealthCheck = 'DUPLICATE_HEALTH_CHECK',
  /** A metric name is already registered as another kind of metric. */
  MetricConflict = 'METRIC_CONFLICT',
}

/** The one exception of `@keyfleet/observability`; it signals programming errors at start-up. */
export class ObservabilityException extends KeyfleetException<ObservabilityExceptionCode> {
  constructor(code: ObservabilityExceptionCode, message: string) {
    super(code, message);
  }
}

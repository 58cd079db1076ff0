import { KeyfleetException } from '@keyfleet/errors';

/**
 * Why the resilience layer refused or stopped a call (as opposed to the work itself failing:
 * those errors pass through unchanged).
 */
export enum ResilienceExceptionCode {
  /** The cluster's breaker is open, or half-open with its one probe in flight: fail fast. */
  CircuitOpen = 'CIRCUIT_OPEN',
  /** The bulkhead's in-flight and queue limits are both reached: load is shed at once. */
  BulkheadFull = 'BULKHEAD_FULL',
  /** The call waited in the bulkhead queue past its queue timeout or its deadline. */
  QueueTimeout = 'QUEUE_TIMEOUT',
  /** The caller's deadline had passed before the work could start. */
  DeadlineExceeded = 'DEADLINE_EXCEEDED',
  /** The caller aborted before the first attempt. */
  Aborted = 'ABORTED',
  /** The breaker or bulkhead was shut down (the service is stopping). */
  Closed = 'CLOSED',
}

/** The one exception of `@keyfleet/resilience`; its message names limits, never request data. */
export class ResilienceException extends KeyfleetException<ResilienceExceptionCode> {}

export { ClusterBreaker, type BreakerState, type BreakerStateListener, type ClusterBreakerOptions } from './lib/breaker/cluster-breaker';
export { Bulkhead, type BulkheadOptions, type BulkheadRunOptions } from './lib/bulkhead/bulkhead';
export { ResilienceException, ResilienceExceptionCode } from './lib/resilience.exception';
export { fullJitterDelay, type RetryPolicy } from './lib/retry/backoff';
export { retry, type RetryAttempt, type RetryInfo, type RetryOptions } from './lib/retry/retry';
export { RetryBudget, type RetryBudgetOptions } from './lib/retry/retry-budget';

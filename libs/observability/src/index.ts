export {
  HEALTH_CHECK_TIMEOUT_MS,
  HealthRegistry,
  describeFailure,
  type HealthCheck,
  type HealthReport,
  type HealthResult,
} from './lib/health.registry';
export { REDACTED, REDACT_PATHS, createLogger, type LoggerOptions } from './lib/logger';
export { METRIC_PREFIX, MetricsRegistry } from './lib/metrics.registry';
export { ObservabilityException, ObservabilityExceptionCode } from './lib/observability.exception';
export {
  LOGGER,
  METRICS_REGISTRY,
  ObservabilityModule,
  createObservability,
  type ObservabilityContext,
  type ObservabilityOptions,
} from './lib/observability.module';
export { PinoNestLogger } from './lib/pino-nest.logger';

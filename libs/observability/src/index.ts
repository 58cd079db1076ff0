export { HEALTH_CHECK_TIMEOUT_MS, HealthRegistry, type HealthCheck, type HealthReport, type HealthResult } from './lib/health.registry';
export { REDACT_PATHS, createLogger, type LoggerOptions } from './lib/logger';
export { createMetricsRegistry } from './lib/metrics';
export { LOGGER, METRICS_REGISTRY, ObservabilityModule, type ObservabilityOptions } from './lib/observability.module';
export { PinoNestLogger } from './lib/pino-nest.logger';

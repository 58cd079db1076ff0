import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { DestinationStream, LevelWithSilent, Logger } from 'pino';
import { HealthRegistry } from './health.registry';
import { createLogger } from './logger';
import { MetricsRegistry } from './metrics.registry';
import { ObservabilityController } from './observability.controller';

/** Injection token of the process's pino `Logger` (a type, so it needs a token). */
export const LOGGER = Symbol('keyfleet.logger');
/** The same `MetricsRegistry` under a token, for code that injects a plain prom-client `Registry`. */
export const METRICS_REGISTRY = Symbol('keyfleet.metrics-registry');

/** The process-wide observability objects. */
export interface ObservabilityContext {
  readonly logger: Logger;
  readonly metrics: MetricsRegistry;
  readonly health: HealthRegistry;
}

/** Options of `ObservabilityModule.forRoot`. */
export interface ObservabilityOptions {
  /** The service name: `service` on log lines and metric series. */
  readonly service: string;
  /** Log level when the logger is created here; `info` by default. */
  readonly level?: LevelWithSilent;
  /** Objects made earlier with `createObservability` (the bootstrap needs the logger before Nest exists). */
  readonly context?: ObservabilityContext;
}

/**
 * Creates the logger, metrics registry and health registry of a process. Use it when the
 * logger is needed before Nest exists (to log start-up and to be Nest's own logger), then
 * hand the result to `ObservabilityModule.forRoot`.
 */
export function createObservability(
  options: { readonly service: string; readonly level: LevelWithSilent },
  destination?: DestinationStream,
): ObservabilityContext {
  const logger = createLogger(options, destination);
  return { logger, metrics: new MetricsRegistry(options.service), health: new HealthRegistry(logger.child({ component: 'health' })) };
}

/**
 * Global module: makes the process's logger (`@Inject(LOGGER)`), `MetricsRegistry` (also
 * as `METRICS_REGISTRY`) and `HealthRegistry` injectable everywhere, and serves
 * `GET /health` and `GET /metrics`. Import it once, in the root module.
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityOptions): DynamicModule {
    const { logger, metrics, health } = options.context ?? createObservability({ service: options.service, level: options.level ?? 'info' });
    return {
      module: ObservabilityModule,
      controllers: [ObservabilityController],
      providers: [
        { provide: LOGGER, useValue: logger },
        { provide: MetricsRegistry, useValue: metrics },
        { provide: METRICS_REGISTRY, useExisting: MetricsRegistry },
        { provide: HealthRegistry, useValue: health },
      ],
      exports: [LOGGER, MetricsRegistry, METRICS_REGISTRY, HealthRegistry],
    };
  }
}

import 'reflect-metadata';
import { Module, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { ConfigException } from '@keyfleet/config';
import { HealthRegistry, ObservabilityModule, PinoNestLogger, createLogger, createMetricsRegistry } from '@keyfleet/observability';

/** What every service process shares: its logger, metrics and health checks. */
export interface ServiceContext {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly health: HealthRegistry;
}

export interface ServiceDefinition<C> {
  /** The service name: log field, metric label, Kafka client id. */
  readonly service: string;
  /** Validates the environment; throws `ConfigException` naming what is wrong. */
  loadConfig(): C;
  readonly http: (config: C) => { host: string; port: number };
  readonly logLevel: (config: C) => string;
  /** The app's own module, built from its validated config. */
  readonly module: (config: C, context: ServiceContext) => DynamicModule | Type;
  /** Grace period for in-flight work on SIGTERM; default 20 s. */
  readonly shutdownTimeoutMs?: number;
}

/** A started service; `stop()` is what SIGTERM runs. */
export interface RunningService {
  readonly app: INestApplication;
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Starts a keyfleet service: configuration first (a bad or missing variable is named on
 * stderr and the process exits 1 before anything starts), then JSON logging, metrics and
 * health, then the Nest application on its HTTP port. SIGTERM and SIGINT close it
 * gracefully (consumers drain, connections close) and exit 0.
 */
export async function bootstrapService<C>(definition: ServiceDefinition<C>): Promise<RunningService> {
  let config: C;
  try {
    config = definition.loadConfig();
  } catch (err) {
    if (err instanceof ConfigException) {
      process.stderr.write(`[${definition.service}] configuration error: ${err.problems.join('; ')}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({ service: definition.service, level: definition.logLevel(config) });
  const context: ServiceContext = { logger, registry: createMetricsRegistry(definition.service), health: new HealthRegistry() };

  @Module({ imports: [ObservabilityModule.forRoot(context), definition.module(config, context)] })
  class ServiceRootModule {}

  let app: INestApplication;
  try {
    app = await NestFactory.create(ServiceRootModule, { logger: new PinoNestLogger(logger), abortOnError: false });
    const { host, port } = definition.http(config);
    await app.listen(port, host);
  } catch (err) {
    logger.fatal({ err }, 'start-up failed');
    process.exit(1);
  }
  const url = await app.getUrl();
  logger.info({ url }, `${definition.service} started`);

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('shutting down');
      await app.close();
      logger.info('shutdown complete');
    })());
  const onSignal = (signal: NodeJS.Signals) => {
    const timeoutMs = definition.shutdownTimeoutMs ?? 20_000;
    const timer = setTimeout(() => {
      logger.error({ signal, timeoutMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return { app, url, stop };
}

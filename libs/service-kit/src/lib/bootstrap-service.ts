import 'reflect-metadata';
import { Module, type DynamicModule, type INestApplication, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Logger } from 'pino';
import { ConfigException, type ServiceConfigBase } from '@keyfleet/config';
import { ObservabilityModule, PinoNestLogger, createObservability, type ObservabilityContext } from '@keyfleet/observability';
import { ServiceKitException, ServiceKitExceptionCode } from './service-kit.exception';

/** Grace period for in-flight work after SIGTERM; below systemd's 30 s `TimeoutStopSec`. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 20_000;

/** What an app's `main.ts` says about itself. */
export interface ServiceDefinition<C extends ServiceConfigBase> {
  /** The service name: `service` on log lines and metrics, prefix of the configuration error line. */
  readonly service: string;
  /** Validates the environment; throws `ConfigException` naming what is wrong. */
  loadConfig(): C;
  /** The app's own module, built from its validated config. */
  readonly module: (config: C, context: ObservabilityContext) => DynamicModule | Type;
  /**
   * Runs after the application is created and before it listens: e.g. connects a gRPC
   * microservice (`app.connectMicroservice` + `app.startAllMicroservices()`).
   */
  readonly configure?: (app: INestApplication, config: C, context: ObservabilityContext) => Promise<void>;
  /** Grace period for in-flight work on SIGTERM/SIGINT; `DEFAULT_SHUTDOWN_TIMEOUT_MS` by default. */
  readonly shutdownTimeoutMs?: number;
}

/** A started service. */
export interface RunningService {
  readonly app: INestApplication;
  /** Where it listens, e.g. `http://127.0.0.1:3101`. */
  readonly url: string;
  readonly logger: Logger;
  /**
   * Closes the app: Nest's `onModuleDestroy`, `beforeApplicationShutdown`, HTTP server
   * close, `onApplicationShutdown`, in that order. Idempotent; logs `shutdown complete`.
   *
   * @param signal - only logged: Nest's public `close()` does not hand it to the hooks.
   */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts a service's Nest application inside this process: root module = observability
 * (`/health`, `/metrics`, logger, registries) + the app's module, Nest logging through
 * pino, listening on `config.http`. It neither exits the process nor handles signals;
 * `bootstrapService` does, and tests call this directly.
 *
 * @throws ServiceKitException `AppCreationFailed` (a provider failed; Nest logged why) or
 *   `ListenFailed`, with the underlying error as `cause`.
 */
export async function startServiceApp<C extends ServiceConfigBase>(
  definition: Pick<ServiceDefinition<C>, 'service' | 'module' | 'configure'>,
  config: C,
  context: ObservabilityContext,
): Promise<RunningService> {
  const { logger } = context;

  @Module({ imports: [ObservabilityModule.forRoot({ service: definition.service, context }), definition.module(config, context)] })
  class ServiceRootModule {}

  // abortOnError false: a failing provider rejects here instead of Nest calling
  // process.abort(). Nest's ExceptionHandler has logged the cause (as JSON) by then.
  const app = await NestFactory.create(ServiceRootModule, { logger: new PinoNestLogger(logger), abortOnError: false }).catch(
    (err: unknown) => {
      throw new ServiceKitException(ServiceKitExceptionCode.AppCreationFailed, 'the application could not be created', { cause: err });
    },
  );
  try {
    await definition.configure?.(app, config, context);
  } catch (err) {
    await app.close();
    throw new ServiceKitException(ServiceKitExceptionCode.ConfigureFailed, 'the application could not be configured', { cause: err });
  }
  try {
    await app.listen(config.http.port, config.http.host);
  } catch (err) {
    await app.close();
    const where = `${config.http.host}:${config.http.port}`;
    throw new ServiceKitException(ServiceKitExceptionCode.ListenFailed, `cannot listen on ${where}`, { cause: err });
  }
  const url = await app.getUrl();
  logger.info({ url }, `${definition.service} started`);

  let stopping: Promise<void> | undefined;
  const stop = (signal?: NodeJS.Signals) =>
    (stopping ??= (async () => {
      logger.info({ signal }, 'shutting down');
      await app.close();
      logger.info('shutdown complete');
    })());
  return { app, url, logger, stop };
}

/**
 * Runs a keyfleet service process; the whole of an app's `main.ts`.
 *
 * 1. Configuration first: on `ConfigException` it prints one line,
 *    `[<service>] configuration error: <problems>`, to stderr and exits 1 before anything
 *    else starts (no Nest, no connections).
 * 2. JSON logging (pino, secrets redacted), metrics and health, then the app's module;
 *    a failure during start-up is logged and exits 1.
 * 3. SIGTERM or SIGINT closes the app (Nest lifecycle hooks: consumers drain, connections
 *    close), logs `shutdown complete` and exits 0; if that takes longer than
 *    `shutdownTimeoutMs` it exits 1. A second signal during shutdown kills at once.
 *
 * Nest's `enableShutdownHooks()` is deliberately not used: by default it re-raises the
 * signal after closing, so the exit status is "killed by SIGTERM" (143), not 0, and it
 * cannot bound the time the hooks take.
 */
export async function bootstrapService<C extends ServiceConfigBase>(definition: ServiceDefinition<C>): Promise<RunningService> {
  let config: C;
  try {
    config = definition.loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigException)) throw err;
    process.stderr.write(`[${definition.service}] configuration error: ${err.message}\n`);
    return process.exit(1);
  }
  const context = createObservability({ service: definition.service, level: config.log.level });
  const { logger } = context;
  // Whatever escapes still ends as one JSON line with its stack, not a bare stack trace.
  process.on('uncaughtException', (err) => exitOnFatal(logger, err, 'uncaught exception'));
  process.on('unhandledRejection', (err) => exitOnFatal(logger, err, 'unhandled rejection'));

  let running: RunningService;
  try {
    running = await startServiceApp(definition, config, context);
  } catch (err) {
    return exitOnFatal(logger, err, 'start-up failed');
  }

  const onSignal = (signal: NodeJS.Signals) => {
    const timeoutMs = definition.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
    setTimeout(() => {
      logger.error({ signal, timeoutMs }, 'shutdown took too long; exiting');
      process.exit(1);
    }, timeoutMs).unref();
    running.stop(signal).then(
      () => process.exit(0),
      (err: unknown) => exitOnFatal(logger, err, 'shutdown failed'),
    );
  };
  // `once`: a second signal gets Node's default action, so an impatient operator can force it.
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return running;
}

function exitOnFatal(logger: Logger, err: unknown, message: string): never {
  // Log an error once: Nest has already logged why it could not create the application.
  const alreadyLogged = err instanceof ServiceKitException && err.code === ServiceKitExceptionCode.AppCreationFailed;
  logger.fatal(alreadyLogged ? { code: err.code } : { err }, message);
  return process.exit(1);
}

import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { DataSource, MigrationInterface } from 'typeorm';
import { HealthRegistry, LOGGER, METRICS_REGISTRY } from '@keyfleet/observability';
import { MessagingRuntime, MessagingTables1763800000000, type InboxConsumerOptions } from '@keyfleet/messaging';
import { createServiceDataSource, initializeServiceDataSource } from '@keyfleet/persistence';

export interface ServiceRuntimeOptions {
  readonly service: string;
  readonly db: { readonly url: string; readonly schema: string };
  readonly kafka: {
    readonly brokers: readonly string[];
    readonly topicPrefix: string;
    readonly partitions: number;
    readonly replicationFactor: number;
  };
  /** The service's own migrations; the outbox and inbox tables are added here. */
  readonly migrations: readonly (new () => MigrationInterface)[];
  readonly consumers: readonly Omit<InboxConsumerOptions, 'topicPrefix'>[];
}

/** The data source and messaging of a service, started before the app serves and stopped after. */
export class ServiceRuntime {
  private stopped: Promise<void> | undefined;

  constructor(
    readonly dataSource: DataSource,
    readonly messaging: MessagingRuntime,
    private readonly logger: Logger,
  ) {}

  static async start(options: ServiceRuntimeOptions, logger: Logger, registry: Registry, health: HealthRegistry): Promise<ServiceRuntime> {
    const dataSource = await initializeServiceDataSource(
      createServiceDataSource({
        url: options.db.url,
        schema: options.db.schema,
        applicationName: options.service,
        entities: [],
        migrations: [MessagingTables1763800000000, ...options.migrations],
      }),
    );
    let messaging: MessagingRuntime;
    try {
      messaging = await MessagingRuntime.start({
        service: options.service,
        brokers: options.kafka.brokers,
        topicPrefix: options.kafka.topicPrefix,
        topicSettings: { partitions: options.kafka.partitions, replicationFactor: options.kafka.replicationFactor },
        dataSource,
        logger,
        registry,
        consumers: options.consumers,
      });
    } catch (err) {
      await dataSource.destroy();
      throw err;
    }
    health.register({
      name: 'postgres',
      check: async () => {
        await dataSource.query('SELECT 1');
        return { ok: true, detail: `schema ${options.db.schema}` };
      },
    });
    health.register({ name: 'kafka', check: () => messaging.health() });
    health.register({ name: 'outbox', check: async () => ({ ok: true, detail: `${await messaging.backlog()} waiting` }) });
    return new ServiceRuntime(dataSource, messaging, logger);
  }

  /** Stops consumers, relay and producer, then closes the database pool. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.messaging.stop();
      await this.dataSource.destroy();
      this.logger.info('database connections closed');
    })();
    return this.stopped;
  }
}

/** Provides `ServiceRuntime` (database + messaging) to a service's module. */
@Module({})
export class ServiceRuntimeModule {
  static forRoot(options: ServiceRuntimeOptions): DynamicModule {
    return {
      module: ServiceRuntimeModule,
      providers: [
        {
          provide: ServiceRuntime,
          inject: [LOGGER, METRICS_REGISTRY, HealthRegistry],
          useFactory: (logger: Logger, registry: Registry, health: HealthRegistry) =>
            ServiceRuntime.start(options, logger, registry, health),
        },
        ServiceRuntimeShutdown,
      ],
      exports: [ServiceRuntime],
    };
  }
}

/** Nest runs lifecycle hooks on class providers: this one stops the runtime on shutdown. */
@Injectable()
class ServiceRuntimeShutdown implements OnApplicationShutdown {
  constructor(@Inject(ServiceRuntime) private readonly runtime: ServiceRuntime) {}

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.stop();
  }
}

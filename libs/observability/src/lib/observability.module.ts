import { Controller, Get, Global, Inject, Module, Res, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { HealthRegistry } from './health.registry';

/** Injection tokens of the process-wide observability objects. */
export const LOGGER = Symbol('keyfleet.logger');
export const METRICS_REGISTRY = Symbol('keyfleet.metrics-registry');

interface HttpResponse {
  status(code: number): HttpResponse;
  type(contentType: string): HttpResponse;
  send(body: unknown): void;
}

@Controller()
class ObservabilityController {
  constructor(
    private readonly health: HealthRegistry,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
  ) {}

  /** 200 when every registered check passes, 503 otherwise, with each check's result. */
  @Get('health')
  async getHealth(@Res() res: HttpResponse): Promise<void> {
    const report = await this.health.report();
    res.status(report.status === 'ok' ? 200 : 503).send(report);
  }

  /** Prometheus text exposition. */
  @Get('metrics')
  async getMetrics(@Res() res: HttpResponse): Promise<void> {
    res.status(200).type(this.registry.contentType).send(await this.registry.metrics());
  }
}

export interface ObservabilityOptions {
  readonly logger: Logger;
  readonly registry: Registry;
  readonly health: HealthRegistry;
}

/**
 * Makes the process's logger, metrics registry and health registry injectable everywhere
 * and serves `GET /health` and `GET /metrics`.
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      controllers: [ObservabilityController],
      providers: [
        { provide: LOGGER, useValue: options.logger },
        { provide: METRICS_REGISTRY, useValue: options.registry },
        { provide: HealthRegistry, useValue: options.health },
      ],
      exports: [LOGGER, METRICS_REGISTRY, HealthRegistry],
    };
  }
}

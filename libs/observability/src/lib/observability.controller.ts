import { Controller, Get, Inject, Res } from '@nestjs/common';
import { HealthRegistry } from './health.registry';
import { MetricsRegistry } from './metrics.registry';

/** The part of Express's response these handlers use (the status code depends on the result). */
interface HttpResponse {
  status(code: number): HttpResponse;
  type(contentType: string): HttpResponse;
  setHeader(name: string, value: string): unknown;
  send(body: unknown): void;
}

/** `GET /health` and `GET /metrics` of every keyfleet process. */
@Controller()
export class ObservabilityController {
  constructor(
    @Inject(HealthRegistry) private readonly health: HealthRegistry,
    @Inject(MetricsRegistry) private readonly metrics: MetricsRegistry,
  ) {}

  /** 200 `{status:"ok",checks}` when every registered check passes, 503 `{status:"unavailable",checks}` otherwise. */
  @Get('health')
  async getHealth(@Res() res: HttpResponse): Promise<void> {
    const report = await this.health.report();
    res.setHeader('Cache-Control', 'no-store');
    res.status(report.status === 'ok' ? 200 : 503).send(report);
  }

  /** Prometheus text exposition of the process's registry. */
  @Get('metrics')
  async getMetrics(@Res() res: HttpResponse): Promise<void> {
    const body = await this.metrics.metrics();
    res.status(200).type(this.metrics.contentType).send(body);
  }
}

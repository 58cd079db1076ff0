import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import pino from 'pino';
import { Counter } from 'prom-client';
import { HealthRegistry } from './health.registry';
import { createMetricsRegistry } from './metrics';
import { ObservabilityModule } from './observability.module';

describe(ObservabilityModule.name, () => {
  let app: INestApplication;
  let base: string;
  const health = new HealthRegistry();
  const registry = createMetricsRegistry('test-service');

  beforeAll(async () => {
    @Module({ imports: [ObservabilityModule.forRoot({ logger: pino({ level: 'silent' }), registry, health })] })
    class TestModule {}
    app = await NestFactory.create(TestModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = await app.getUrl();
  });

  afterAll(async () => {
    await app.close();
  });

  it('serves /health as 200 while checks pass and 503 when one fails', async () => {
    let up = true;
    health.register({ name: 'db', check: () => ({ ok: up }) });
    const ok = await fetch(`${base}/health`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 'ok', checks: { db: { ok: true } } });
    up = false;
    expect((await fetch(`${base}/health`)).status).toBe(503);
  });

  it('serves Prometheus metrics with the service label', async () => {
    new Counter({ name: 'keyfleet_test_things_total', help: 'things', registers: [registry] }).inc(3);
    const res = await fetch(`${base}/metrics`);
    const text = await res.text();
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(text).toContain('keyfleet_test_things_total{service="test-service"} 3');
    expect(text).toContain('keyfleet_process_cpu_user_seconds_total');
  });
});

import { Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthRegistry } from './health.registry';
import { MetricsRegistry } from './metrics.registry';
import { LOGGER, METRICS_REGISTRY, ObservabilityModule, createObservability } from './observability.module';

describe(ObservabilityModule.name, () => {
  let app: INestApplication;
  let base: string;
  const context = createObservability({ service: 'test-service', level: 'silent' });
  let dbUp = true;

  beforeAll(async () => {
    @Module({ imports: [ObservabilityModule.forRoot({ service: 'test-service', context })] })
    class TestModule {}
    app = await NestFactory.create(TestModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    context.health.register({ name: 'db', check: async () => ({ ok: dbUp, ...(dbUp ? {} : { detail: 'connection refused' }) }) });
  });

  afterAll(async () => {
    await app.close();
  });

  it('answers /health with 200 and every check while all pass', async () => {
    dbUp = true;
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', checks: { db: { ok: true } } });
  });

  it('answers /health with 503 and the failed check when one fails', async () => {
    dbUp = false;
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unavailable', checks: { db: { ok: false, detail: 'connection refused' } } });
  });

  it('serves Prometheus text with a registered counter and the service label', async () => {
    context.metrics.counter({ name: 'test_things_total', help: 'Things.' }).inc(3);
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('keyfleet_test_things_total{service="test-service"} 3');
    expect(text).toContain('keyfleet_process_cpu_user_seconds_total');
  });

  it('makes the logger, metrics and health registries injectable', () => {
    expect(app.get(LOGGER)).toBe(context.logger);
    expect(app.get(MetricsRegistry)).toBe(context.metrics);
    expect(app.get(METRICS_REGISTRY)).toBe(context.metrics);
    expect(app.get(HealthRegistry)).toBe(context.health);
  });

  it('creates its own objects when given only the service name', () => {
    const sut = ObservabilityModule.forRoot({ service: 'other', level: 'silent' });
    expect(sut.providers).toContainEqual({ provide: MetricsRegistry, useValue: expect.any(MetricsRegistry) });
  });
});

import { Writable } from 'node:stream';
import { Inject, Injectable, Module, type OnApplicationShutdown, type OnModuleInit, type Type } from '@nestjs/common';
import { HealthRegistry, createObservability, type ObservabilityContext } from '@keyfleet/observability';
import { startServiceApp, type RunningService } from './bootstrap-service';
import { ServiceKitExceptionCode } from './service-kit.exception';

/** A component the way an app writes one: registers a health check, cleans up on shutdown. */
@Injectable()
class FakeConsumer implements OnModuleInit, OnApplicationShutdown {
  static events: string[] = [];
  running = false;

  constructor(@Inject(HealthRegistry) private readonly health: HealthRegistry) {}

  onModuleInit(): void {
    this.running = true;
    this.health.register({ name: 'consumer', check: async () => ({ ok: this.running }) });
  }

  onApplicationShutdown(): void {
    this.running = false;
    FakeConsumer.events.push('stopped');
  }
}

@Module({ providers: [FakeConsumer] })
class FakeAppModule {}

describe(startServiceApp.name, () => {
  let logText: string;
  let context: ObservabilityContext;
  let sut: RunningService;
  const logLines = () => logText.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; service: string });

  beforeEach(async () => {
    logText = '';
    FakeConsumer.events = [];
    const stream = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logText += chunk.toString();
        done();
      },
    });
    context = createObservability({ service: 'fake-service', level: 'info' }, stream);
    sut = await startServiceApp(
      { service: 'fake-service', module: () => FakeAppModule },
      { http: { host: '127.0.0.1', port: 0 }, log: { level: 'info' } },
      context,
    );
  });

  afterEach(async () => {
    await sut.stop();
  });

  it('serves /health with the checks the app registered and /metrics with the service label', async () => {
    const health = await fetch(`${sut.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', checks: { consumer: { ok: true } } });
    expect(await (await fetch(`${sut.url}/metrics`)).text()).toContain('keyfleet_process_cpu_user_seconds_total{service="fake-service"}');
  });

  it('logs Nest and its own lines as JSON for the service', () => {
    const lines = logLines();
    expect(lines.every((l) => l.service === 'fake-service')).toBe(true);
    expect(lines.map((l) => l.msg)).toContain('fake-service started');
  });

  it('runs the shutdown hooks, then logs shutdown complete', async () => {
    await sut.stop('SIGTERM');
    expect(FakeConsumer.events).toEqual(['stopped']);
    expect(logLines()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ msg: 'shutting down', signal: 'SIGTERM' }),
        expect.objectContaining({ msg: 'shutdown complete' }),
      ]),
    );
  });

  it('stops only once however often it is asked', async () => {
    await Promise.all([sut.stop('SIGTERM'), sut.stop('SIGINT')]);
    expect(FakeConsumer.events).toEqual(['stopped']);
  });
});

describe(`${startServiceApp.name} when it cannot start`, () => {
  const config = (port: number) => ({ http: { host: '127.0.0.1', port }, log: { level: 'silent' as const } });
  const start = (module: () => Type, port = 0) =>
    startServiceApp({ service: 'fake-service', module }, config(port), createObservability({ service: 'fake-service', level: 'silent' }));

  it('says a provider failed, keeping the cause', async () => {
    @Module({ providers: [{ provide: 'db', useFactory: () => Promise.reject(new Error('database down')) }] })
    class FailingModule {}
    await expect(start(() => FailingModule)).rejects.toMatchObject({
      code: ServiceKitExceptionCode.AppCreationFailed,
      cause: new Error('database down'),
    });
  });

  it('says which address it could not listen on', async () => {
    const blocker = await start(() => FakeAppModule);
    const port = Number(new URL(blocker.url).port);
    try {
      await expect(start(() => FakeAppModule, port)).rejects.toMatchObject({
        code: ServiceKitExceptionCode.ListenFailed,
        message: `cannot listen on 127.0.0.1:${port}`,
      });
    } finally {
      await blocker.stop();
    }
  });
});

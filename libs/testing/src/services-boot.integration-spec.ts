import { randomBytes } from 'node:crypto';
import { builtEntry, deleteTopicsWithPrefix, dropSchemas, freePort, infraEnv, runToExit, startService } from './index';

const suite = `boot${randomBytes(3).toString('hex')}`;
const prefix = `it.${suite}.`;

/** The six services, each with its own schema override (data services) so the suite touches nothing else. */
const SERVICES = [
  { app: 'crypto-gateway', schema: undefined, checks: [] },
  { app: 'cloudhsm-local', schema: undefined, checks: [] },
  { app: 'key-service', schema: `it_${suite}_key`, checks: ['postgres', 'kafka', 'outbox'] },
  { app: 'rotation-service', schema: `it_${suite}_rotation`, checks: ['postgres', 'kafka', 'outbox'] },
  { app: 'migration-service', schema: `it_${suite}_migration`, checks: ['postgres', 'kafka', 'outbox'] },
  { app: 'audit-service', schema: `it_${suite}_audit`, checks: ['postgres', 'kafka', 'outbox'] },
] as const;

function envFor(schema: string | undefined): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    KAFKA_BROKERS: infraEnv('KAFKA_BROKERS'),
    DATABASE_URL: infraEnv('DATABASE_URL'),
    KAFKA_TOPIC_PREFIX: prefix,
    LOG_LEVEL: 'info',
    ...(schema ? { DATABASE_SCHEMA: schema } : {}),
  };
}

describe('every service process', () => {
  afterAll(async () => {
    await dropSchemas(infraEnv('DATABASE_URL'), SERVICES.flatMap((s) => (s.schema ? [s.schema] : [])));
    await deleteTopicsWithPrefix(infraEnv('KAFKA_BROKERS').split(','), prefix);
  });

  it.each(SERVICES)('$app boots healthy, serves metrics, logs JSON and stops cleanly on SIGTERM', async ({ app, schema, checks }) => {
    const sut = await startService({ entry: builtEntry(app), env: envFor(schema), port: await freePort() });
    const health = await fetch(`${sut.url}/health`);
    const report = (await health.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(report.status).toBe('ok');
    expect(Object.keys(report.checks).sort()).toEqual([...checks].sort());

    const metrics = await (await fetch(`${sut.url}/metrics`)).text();
    expect(metrics).toContain(`keyfleet_process_cpu_user_seconds_total{service="${app}"}`);

    const exit = await sut.stop('SIGTERM');
    expect(exit).toMatchObject({ code: 0, signal: null });
    const lines = exit.output.trim().split('\n').map((l) => JSON.parse(l) as { service: string; msg: string });
    expect(lines.every((l) => l.service === app)).toBe(true);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining([`${app} started`, 'shutting down', 'shutdown complete']));
    expect(exit.output).not.toContain(new URL(infraEnv('DATABASE_URL')).password);
  });

  it.each(SERVICES.filter((s) => s.app !== 'cloudhsm-local'))('$app refuses to start without KAFKA_BROKERS and says so', async ({ app, schema }) => {
    const { KAFKA_BROKERS: _omit, ...env } = envFor(schema);
    const exit = await runToExit(builtEntry(app), [], env);
    expect(exit.code).toBe(1);
    expect(exit.output).toBe(`[${app}] configuration error: KAFKA_BROKERS: required\n`);
  });

  it('cloudhsm-local refuses a bad port and says so', async () => {
    const exit = await runToExit(builtEntry('cloudhsm-local'), [], { ...envFor(undefined), HTTP_PORT: 'eighty' });
    expect(exit).toMatchObject({ code: 1, output: '[cloudhsm-local] configuration error: HTTP_PORT: expected an integer 1-65535\n' });
  });

  it('a data service refuses a malformed DATABASE_URL without printing it', async () => {
    const exit = await runToExit(builtEntry('key-service'), [], { ...envFor(undefined), DATABASE_URL: 'mysql://root:hunter2@db/x' });
    expect(exit.code).toBe(1);
    expect(exit.output).toBe('[key-service] configuration error: DATABASE_URL: expected postgres://user:password@host:port/database\n');
  });
});

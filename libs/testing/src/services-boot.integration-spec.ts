import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKSPACE_ROOT, builtEntry, deleteTopicsWithPrefix, dropSchemas, freePort, infraEnv, runToExit, startService } from './index';

/**
 * Every service as a real process from `dist/` (build first: `npx nx run-many -t build`):
 * it starts, answers /health and /metrics, logs JSON, and exits 0 on SIGTERM; a missing
 * or bad variable stops it with exit 1 and one line naming the variable.
 *
 * The data services connect to the real PostgreSQL and Kafka, each in a schema and topic
 * prefix of this suite only, removed afterwards.
 */
const suite = `boot${randomBytes(3).toString('hex')}`;
const prefix = `it.${suite}.`;
const DATA_CHECKS = ['kafka', 'outbox', 'postgres'];

const SERVICES = [
  { app: 'crypto-gateway', schema: undefined, checks: [], kafka: true },
  { app: 'cloudhsm-local', schema: undefined, checks: [], kafka: false },
  { app: 'key-service', schema: `it_${suite}_key`, checks: DATA_CHECKS, kafka: true },
  { app: 'rotation-service', schema: `it_${suite}_rotation`, checks: DATA_CHECKS, kafka: true },
  { app: 'migration-service', schema: `it_${suite}_migration`, checks: DATA_CHECKS, kafka: true },
  { app: 'audit-service', schema: `it_${suite}_audit`, checks: DATA_CHECKS, kafka: true },
] as const;

// The crypto gateway's own files: development certificates, the development policy, and a
// clusters file with no cluster (booting needs no HSM; key operations would answer UNAVAILABLE).
const gatewayDir = join(tmpdir(), `it-${suite}-gateway`);

/** The whole environment of a service process: nothing leaks in from the test runner's. */
async function envFor(schema: string | undefined): Promise<NodeJS.ProcessEnv> {
  return {
    GATEWAY_TLS_DIR: join(gatewayDir, 'pki'),
    GATEWAY_POLICY_FILE: join(WORKSPACE_ROOT, 'tools/pki/dev-policy.json'),
    GATEWAY_CLUSTERS_FILE: join(gatewayDir, 'clusters.json'),
    GATEWAY_STATE_DIR: join(gatewayDir, 'state'),
    GATEWAY_GRPC_PORT: String(await freePort()),
    PATH: process.env['PATH'],
    KAFKA_BROKERS: infraEnv('KAFKA_BROKERS'),
    DATABASE_URL: infraEnv('DATABASE_URL'),
    KAFKA_TOPIC_PREFIX: prefix,
    LOG_LEVEL: 'info',
    // cloudhsm-local's state goes to a private folder, apart from the running infrastructure's.
    CLOUDHSM_LOCAL_DATA_DIR: join(tmpdir(), `it-${suite}-cloudhsm-local`),
    ...(schema ? { DATABASE_SCHEMA: schema } : {}),
  };
}

describe('every service process', () => {
  beforeAll(() => {
    mkdirSync(gatewayDir, { recursive: true });
    execFileSync('bash', [join(WORKSPACE_ROOT, 'tools/pki/dev-pki.sh'), join(gatewayDir, 'pki')], { stdio: 'ignore' });
    writeFileSync(join(gatewayDir, 'clusters.json'), JSON.stringify({ clusters: [], rings: {}, keys: [] }));
  }, 60_000);

  afterAll(async () => {
    rmSync(gatewayDir, { recursive: true, force: true });
    await dropSchemas(infraEnv('DATABASE_URL'), SERVICES.flatMap((s) => (s.schema ? [s.schema] : [])));
    await deleteTopicsWithPrefix(infraEnv('KAFKA_BROKERS').split(','), prefix);
  });

  it.each(SERVICES)('$app boots healthy, serves metrics, logs JSON and exits 0 within 10 s of SIGTERM', async ({ app, schema, checks }) => {
    const sut = await startService({ entry: builtEntry(app), env: await envFor(schema), port: await freePort() });

    const health = await fetch(`${sut.url}/health`);
    expect(health.status).toBe(200);
    const report = (await health.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    expect(report.status).toBe('ok');
    expect(Object.keys(report.checks).sort()).toEqual([...checks]);

    const metrics = await (await fetch(`${sut.url}/metrics`)).text();
    expect(metrics).toContain('keyfleet_');
    expect(metrics).toContain(`keyfleet_process_cpu_user_seconds_total{service="${app}"}`);

    const exit = await sut.stop('SIGTERM', 10_000);
    expect(exit).toMatchObject({ code: 0, signal: null, stderr: '' });
    const lines = exit.stdout.trim().split('\n').map((l) => JSON.parse(l) as { service: string; msg: string });
    expect(lines.every((l) => l.service === app)).toBe(true);
    expect(lines.map((l) => l.msg)).toEqual(expect.arrayContaining([`${app} started`, 'shutting down', 'shutdown complete']));
    expect(exit.output).not.toContain(new URL(infraEnv('DATABASE_URL')).password);
  });

  it('a service also exits 0 on SIGINT', async () => {
    const sut = await startService({ entry: builtEntry('crypto-gateway'), env: await envFor(undefined), port: await freePort() });
    expect(await sut.stop('SIGINT', 10_000)).toMatchObject({ code: 0, signal: null });
  });

  it.each(SERVICES.filter((s) => s.kafka))('$app refuses to start without KAFKA_BROKERS and says so on stderr', async ({ app, schema }) => {
    const { KAFKA_BROKERS: _omitted, ...env } = await envFor(schema);
    const exit = await runToExit(builtEntry(app), [], env, 10_000);
    expect(exit).toMatchObject({ code: 1, stdout: '', stderr: `[${app}] configuration error: KAFKA_BROKERS: required\n` });
  });

  it('cloudhsm-local refuses a bad port and says so on stderr', async () => {
    const exit = await runToExit(builtEntry('cloudhsm-local'), [], { ...(await envFor(undefined)), HTTP_PORT: 'eighty' }, 10_000);
    expect(exit).toMatchObject({ code: 1, stderr: '[cloudhsm-local] configuration error: HTTP_PORT: expected an integer 1-65535, got "eighty"\n' });
  });

  it('a data service refuses a malformed DATABASE_URL without printing its password', async () => {
    const exit = await runToExit(builtEntry('key-service'), [], { ...(await envFor(undefined)), DATABASE_URL: 'mysql://root:hunter2@db/x' }, 10_000);
    expect(exit).toMatchObject({
      code: 1,
      stderr: '[key-service] configuration error: DATABASE_URL: expected postgres://user:password@host:port/database, got "mysql://***@db/x"\n',
    });
  });
});

import { randomBytes } from 'node:crypto';
import {
  builtEntry,
  deleteTopicsWithPrefix,
  dropSchemas,
  freePort,
  infraEnv,
  runToExit,
  startService,
  type ServiceProcess,
} from '@keyfleet/testing';

const suite = `cli${randomBytes(3).toString('hex')}`;
const prefix = `it.${suite}.`;
const schemas = { key: `it_${suite}_key`, audit: `it_${suite}_audit` };

/**
 * The smoke scenario across real processes: the CLI publishes a command to
 * Kafka, key-service changes state in Postgres and answers through its outbox,
 * audit-service chains both messages and announces the records, the CLI follows it all.
 */
describe('keyfleet CLI against key-service and audit-service', () => {
  let keyService: ServiceProcess;
  let auditService: ServiceProcess;
  const env = () => ({
    PATH: process.env['PATH'],
    KAFKA_BROKERS: infraEnv('KAFKA_BROKERS'),
    DATABASE_URL: infraEnv('DATABASE_URL'),
    KAFKA_TOPIC_PREFIX: prefix,
  });
  const cli = (...args: string[]) => runToExit(builtEntry('cli'), args, { ...env(), KEYFLEET_OPERATOR: 'it-operator' });

  beforeAll(async () => {
    [keyService, auditService] = await Promise.all([
      startService({ entry: builtEntry('key-service'), env: { ...env(), DATABASE_SCHEMA: schemas.key }, port: await freePort() }),
      startService({ entry: builtEntry('audit-service'), env: { ...env(), DATABASE_SCHEMA: schemas.audit }, port: await freePort() }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([keyService?.stop(), auditService?.stop()]);
    await dropSchemas(infraEnv('DATABASE_URL'), Object.values(schemas));
    await deleteTopicsWithPrefix(infraEnv('KAFKA_BROKERS').split(','), prefix);
  });

  it('runs the smoke scenario end to end and prints what happened', async () => {
    const exit = await cli('smoke');
    // A retried request is fine, but worth seeing in CI's log: it is how flakiness shows up first.
    if (exit.output.includes('trying again')) console.warn(`the CLI retried:\n${exit.output}`);
    // The output first: a failure then shows everything the CLI printed (stderr included).
    expect(exit.output).toMatch(/^done: keyfleet\.key\.registered\.v1 recorded as audit record #\d+$/m);
    expect(exit.code).toBe(0);
    const alias = /creating key '([^']+)'/.exec(exit.output)?.[1];
    expect(alias).toMatch(/^smoke-/);
    expect(exit.output).toContain(`✓ key-service: key '${alias}' registered, version 1, state pending, HSM label ${alias}/v1`);
    expect(exit.output).toMatch(/✓ audit-service: record #1 for keyfleet\.key\.create-requested\.v1 chained/);
    expect(exit.output).toMatch(/✓ audit-service: record #2 for keyfleet\.key\.registered\.v1 chained/);
    expect(exit.output).toContain('done: keyfleet.key.registered.v1 recorded as audit record #2');
  });

  it('reports a rejection with its reason and exits 1', async () => {
    expect((await cli('key', 'create', 'it-payments', '--type', 'aes-256', '--usage', 'encrypt-decrypt')).code).toBe(0);
    const again = await cli('key', 'create', 'it-payments', '--type', 'aes-256', '--usage', 'encrypt-decrypt');
    expect(again.code).toBe(1);
    expect(again.output).toContain('rejected: a key with alias it-payments already exists');
  });

  it('refuses bad input before anything is published', async () => {
    const exit = await cli('key', 'create', 'it-bad', '--type', 'ec-p256');
    expect(exit.code).toBe(2);
    expect(exit.output).toMatch(/^keyfleet: --usage is required\n/);
  });

  it('leaves an audit chain that verifies, with every command and answer in it', async () => {
    const verify = (await (await fetch(`${auditService.url}/audit/verify`)).json()) as { ok: boolean; count: number };
    expect(verify).toMatchObject({ ok: true, count: 6 });
    const { records } = (await (await fetch(`${auditService.url}/audit/records?from=1&limit=10`)).json()) as {
      records: { messageType: string; actor: string }[];
    };
    expect(records.map((r) => r.messageType)).toEqual([
      'keyfleet.key.create-requested.v1',
      'keyfleet.key.registered.v1',
      'keyfleet.key.create-requested.v1',
      'keyfleet.key.registered.v1',
      'keyfleet.key.create-requested.v1',
      'keyfleet.key.command-rejected.v1',
    ]);
    expect(records[0]?.actor).toBe('operator:it-operator');
  });

  it('answers a bad audit query with a clear 400', async () => {
    const res = await fetch(`${auditService.url}/audit/records?limit=5000`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: 'limit: expected an integer 1-1000' });
  });
});

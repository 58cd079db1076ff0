import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { WORKSPACE_ROOT } from './service-process';
import { TestingException, TestingExceptionCode } from './testing.exception';

/** Drops the given schemas (a suite's private ones) and everything in them. */
export async function dropSchemas(databaseUrl: string, schemas: readonly string[]): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const schema of schemas) {
      if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new TestingException(TestingExceptionCode.UnsafeCleanup, `refusing to drop schema ${schema}`);
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  } finally {
    await client.end();
  }
}

/** Deletes every topic whose name starts with `prefix` (a suite's private namespace). */
export async function deleteTopicsWithPrefix(brokers: readonly string[], prefix: string): Promise<void> {
  if (!prefix) throw new TestingException(TestingExceptionCode.UnsafeCleanup, 'refusing to delete topics without a prefix');
  const admin = new Kafka({ brokers: [...brokers], clientId: 'it-cleanup', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Deletes the SoftHSM2 tokens of the given CloudHSM clusters (labelled `<cluster-id>/<user>`,
 * as cloudhsm-local makes them): cloudhsm-local keeps the tokens of deleted clusters' users, so
 * a suite removes its own. Uses `SOFTHSM2_CONF` of the environment.
 */
export function deleteClusterTokens(clusterIds: readonly string[]): void {
  if (clusterIds.some((id) => !id)) throw new TestingException(TestingExceptionCode.UnsafeCleanup, 'refusing to delete tokens without a cluster id');
  const labels = execFileSync('softhsm2-util', ['--show-slots'])
    .toString()
    .split('\n')
    .map((line) => /^\s*Label:\s*(\S+)/.exec(line)?.[1])
    .filter((label): label is string => label !== undefined && clusterIds.some((id) => label.startsWith(`${id}/`)));
  for (const label of labels) execFileSync('softhsm2-util', ['--delete-token', '--token', label], { stdio: 'ignore' });
}

/** Variables `tools/infra/up.sh` writes to `.cache/infra.env`. */
export type InfraVariable = 'KAFKA_BROKERS' | 'DATABASE_URL' | 'SOFTHSM2_CONF' | 'PKCS11_MODULE' | 'CLOUDHSM_LOCAL_ENDPOINT';

/**
 * A variable describing the local infrastructure: from the environment (`npm run
 * test:integration` exports them), else from `.cache/infra.env`, so a plain
 * `npx jest -c jest.integration.config.ts` works once `npm run infra:up` has run.
 *
 * @throws TestingException (`MissingInfrastructure`) saying how to start it.
 */
export function infraEnv(name: InfraVariable): string {
  const value = process.env[name] ?? readInfraEnvFile()[name];
  if (!value) {
    throw new TestingException(
      TestingExceptionCode.MissingInfrastructure,
      `${name} is not set and not in ${INFRA_ENV_FILE}: start the infrastructure (npm run infra:up) or run "npm run test:integration"`,
    );
  }
  return value;
}

const INFRA_ENV_FILE = join(WORKSPACE_ROOT, '.cache/infra.env');

function readInfraEnvFile(): Record<string, string> {
  if (!existsSync(INFRA_ENV_FILE)) return {};
  const entries = readFileSync(INFRA_ENV_FILE, 'utf8')
    .split('\n')
    .map((line) => /^([A-Z0-9_]+)=(.*)$/.exec(line.trim()))
    .flatMap((m) => (m?.[1] && m[2] !== undefined ? [[m[1], m[2].replace(/^(['"])(.*)\1$/, '$2')] as const] : []));
  return Object.fromEntries(entries);
}

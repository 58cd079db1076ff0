import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';

/** Drops the given schemas (a suite's private ones) and everything in them. */
export async function dropSchemas(databaseUrl: string, schemas: readonly string[]): Promise<void> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    for (const schema of schemas) {
      if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`refusing to drop schema ${schema}`);
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    }
  } finally {
    await client.end();
  }
}

/** Deletes every topic whose name starts with `prefix` (a suite's private namespace). */
export async function deleteTopicsWithPrefix(brokers: readonly string[], prefix: string): Promise<void> {
  if (!prefix) throw new Error('refusing to delete topics without a prefix');
  const admin = new Kafka({ brokers: [...brokers], clientId: 'it-cleanup', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

/** A variable set by tools/infra/up.sh in .cache/infra.env (the integration runner exports them). */
export function infraEnv(name: 'KAFKA_BROKERS' | 'DATABASE_URL' | 'SOFTHSM2_CONF' | 'PKCS11_MODULE'): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run integration tests with "npm run test:integration"`);
  return value;
}

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { Kafka, logLevel } from 'kafkajs';
import { Topics, decodeMessage } from '@keyfleet/contracts';
import { createGatewayClient, devIdentity, type GatewayClient } from '@keyfleet/crypto-client';
import { WORKSPACE_ROOT, deleteTopicsWithPrefix, freePort, type ServiceProcess } from '@keyfleet/testing';
import { createGatewayEstate, type GatewayEstate } from './testing/gateway-estate.test-kit';
import { startShippedGateway, topicReader, waitFor } from './testing/gateway-process.test-kit';

const kafkaScript = join(WORKSPACE_ROOT, 'tools/infra/kafka.sh');
/** The audit spool's file system: a tmpfs this small fills after a few dozen records. */
const SPOOL_BYTES = 16 * 1024;
const REFUSED = 'UNAVAILABLE: the audit trail cannot be written; operations are refused until it can';

// The audit trail failing closed, end to end: Kafka is away, so records go to the spool, and the
// spool's file system (a tiny tmpfs mounted for this suite) fills up. The gateway must then refuse
// operations rather than do them unrecorded, serve again once the records can go somewhere, and
// lose the record of no operation it answered.
describe('crypto-gateway audit trail failing closed (real gRPC, SoftHSM2 and Kafka; the spool on a full file system)', () => {
  let estate: GatewayEstate;
  let gateway: ServiceProcess;
  let app: GatewayClient<'Crypto'>;
  let spoolDir: string | undefined;
  const prefix = `it-afc-${randomBytes(3).toString('hex')}.`;
  const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',');
  const kafka = new Kafka({ clientId: 'it-afc', brokers, logLevel: logLevel.NOTHING });

  const encrypt = () =>
    app.call.Encrypt({ keyAlias: 'orders', plaintext: Buffer.from('x'), encryptionContext: {} }).then(
      () => 'ok',
      (err: ServiceError) => `${status[err.code]}: ${err.details}`,
    );

  beforeAll(async () => {
    estate = await createGatewayEstate('afc', ['blue'], [100], 4);
    const pki = join(estate.dir, 'pki');
    execFileSync('bash', [join(WORKSPACE_ROOT, 'tools/pki/dev-pki.sh'), pki], { stdio: 'ignore' });
    const policyFile = join(estate.dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ callers: { 'spiffe://keyfleet.local/app/app-demo': { keys: ['orders'], operations: ['encrypt'] } }, admin: [] }));
    // The gateway keeps its spool in <GATEWAY_STATE_DIR>/audit-spool (gatewayEnv: <dir>/state).
    const dir = join(estate.dir, 'state', 'audit-spool');
    mkdirSync(dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SPOOL_BYTES},mode=0700`, 'tmpfs', dir]);
    spoolDir = dir;
    const grpcPort = await freePort();
    gateway = await startShippedGateway({ dir: estate.dir, clustersFile: estate.clustersFile, pki, policyFile, grpcPort, topicPrefix: prefix });
    app = createGatewayClient('Crypto', { address: `127.0.0.1:${grpcPort}`, ...devIdentity(pki, 'app-demo') });
  }, 120_000);

  afterAll(async () => {
    app?.close();
    await gateway?.stop();
    if (spoolDir) execFileSync('umount', [spoolDir]);
    estate?.remove();
    await deleteTopicsWithPrefix(brokers, prefix);
  }, 60_000);

  it('refuses operations once their records can be neither published nor spooled, serves again when they can, and loses the record of no operation it answered', async () => {
    let answered = 0;
    const call = async () => {
      const outcome = await encrypt();
      if (outcome === 'ok') answered += 1;
      return outcome;
    };
    expect(await call()).toBe('ok');

    execFileSync('bash', [kafkaScript, 'stop'], { stdio: 'ignore' });
    try {
      // Calls go on while their records wait, in memory and then on disk, until the spool is full.
      let refused: string | undefined;
      const end = Date.now() + 90_000;
      while (!refused && Date.now() < end) refused = (await Promise.all(Array.from({ length: 20 }, call))).find((o) => o !== 'ok');
      expect(refused).toBe(REFUSED);
      expect(await call()).toBe(REFUSED);
    } finally {
      execFileSync('bash', [kafkaScript, 'start'], { stdio: 'ignore' });
    }

    // Kafka is back: the spool drains, its next check finds it writable, calls are served again.
    await waitFor('operations served again', async () => (await call()) === 'ok', 90_000, 500);

    const recorded = new Set<string>();
    const stop = await topicReader(kafka, prefix)(Topics.CryptoOps, (value) => {
      const decoded = decodeMessage(value);
      const data = decoded.ok ? (decoded.message.data as { operation: string; outcome: string }) : undefined;
      if (decoded.ok && data?.operation === 'encrypt' && data.outcome === 'ok') recorded.add(decoded.message.id);
    });
    try {
      await waitFor(`records of all ${answered} answered operations`, () => Promise.resolve(recorded.size >= answered), 90_000);
      // Nothing more arrives: exactly one record per answered operation (a refused one has none).
      await new Promise((r) => setTimeout(r, 2000));
      expect(recorded.size).toBe(answered);
    } finally {
      await stop();
    }
  }, 300_000);
});

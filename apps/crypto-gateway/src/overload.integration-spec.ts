import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { createGatewayClient, devIdentity, type GatewayClient } from '@keyfleet/crypto-client';
import { WORKSPACE_ROOT, deleteTopicsWithPrefix, freePort, type ServiceProcess } from '@keyfleet/testing';
import { createGatewayEstate, type GatewayEstate } from './testing/gateway-estate.test-kit';
import { gatewayHttp, type GatewayHttp, startShippedGateway, waitFor } from './testing/gateway-process.test-kit';

/** The gateway's limit on one operation in this suite (GATEWAY_OPERATION_TIMEOUT_MS). */
const OPERATION_LIMIT_MS = 1500;
/** Blue's bulkhead: calls in flight, then queued (GATEWAY_BULKHEAD_QUEUE); beyond both, RESOURCE_EXHAUSTED. */
const IN_FLIGHT = 2;
const QUEUE = 2;

// A hung HSM, as the gateway meets it: blue takes every request (weights 100/0) and its
// PKCS#11 calls stall until the fault is cleared. Callers set no deadline of their own, so
// whatever ends their calls is the gateway's.
describe('crypto-gateway under overload and a hung HSM (real gRPC, SoftHSM2 and Kafka)', () => {
  let estate: GatewayEstate;
  let gateway: ServiceProcess;
  let http: GatewayHttp;
  let app: GatewayClient<'Crypto'>;
  let admin: GatewayClient<'HsmAdmin'>;
  const prefix = `it-ovl-${randomBytes(3).toString('hex')}.`;
  const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',');

  const outcome = (promise: Promise<unknown>) => promise.then(() => 'ok', (err: ServiceError) => `${status[err.code]}: ${err.details}`);
  const encrypt = (deadlineMs?: number) =>
    outcome(app.call.Encrypt({ keyAlias: 'orders', plaintext: Buffer.from('x'), encryptionContext: {} }, deadlineMs === undefined ? {} : { deadline: Date.now() + deadlineMs }));

  beforeAll(async () => {
    estate = await createGatewayEstate('ovl', ['blue', 'green'], [100, 0], IN_FLIGHT);
    const pki = join(estate.dir, 'pki');
    execFileSync('bash', [join(WORKSPACE_ROOT, 'tools/pki/dev-pki.sh'), pki], { stdio: 'ignore' });
    const file = JSON.parse(readFileSync(estate.clustersFile, 'utf8')) as { clusters: { id: string; maxInFlight: number }[] };
    for (const cluster of file.clusters) if (cluster.id === 'blue') cluster.maxInFlight = IN_FLIGHT;
    writeFileSync(estate.clustersFile, JSON.stringify(file));
    const policyFile = join(estate.dir, 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({ callers: { 'spiffe://keyfleet.local/app/app-demo': { keys: ['orders'], operations: ['encrypt'] } }, admin: ['spiffe://keyfleet.local/service/key-service'] }),
    );
    const grpcPort = await freePort();
    gateway = await startShippedGateway(
      { dir: estate.dir, clustersFile: estate.clustersFile, pki, policyFile, grpcPort, topicPrefix: prefix },
      {
        GATEWAY_FAULTS: 'on',
        GATEWAY_OPERATION_TIMEOUT_MS: String(OPERATION_LIMIT_MS),
        GATEWAY_BULKHEAD_QUEUE: String(QUEUE),
        // Needs 12 calls in the window (the tests before the last make at most 11 through the
        // breaker: it stays closed there); once open it stays open for the rest of the suite.
        GATEWAY_BREAKER_VOLUME: '12',
        GATEWAY_BREAKER_WINDOW_MS: '30000',
        GATEWAY_BREAKER_RESET_MS: '60000',
      },
    );
    http = gatewayHttp(gateway);
    app = createGatewayClient('Crypto', { address: `127.0.0.1:${grpcPort}`, ...devIdentity(pki, 'app-demo') });
    admin = createGatewayClient('HsmAdmin', { address: `127.0.0.1:${grpcPort}`, ...devIdentity(pki, 'key-service') });
    // Logged in and the key handle cached before the fault.
    expect(await encrypt()).toBe('ok');
  }, 120_000);

  afterAll(async () => {
    app?.close();
    admin?.close();
    await gateway?.stop();
    estate?.remove();
    await deleteTopicsWithPrefix(brokers, prefix);
  }, 60_000);

  it('drains a cluster without failing what it has in flight: DrainCluster answers once that is done, and new calls go elsewhere meanwhile', async () => {
    await http.setFaults('blue', { latencyMs: 600 });
    const inFlight = Array.from({ length: IN_FLIGHT }, () => encrypt());
    await waitFor('the calls in flight', async () => (await http.cluster('blue')).inFlight === IN_FLIGHT, 10_000, 20);
    const draining = admin.call.DrainCluster({ clusterId: 'blue' });
    await waitFor('blue drained', async () => (await http.cluster('blue')).drained === true, 10_000, 20);
    const blueBefore = (await http.cluster('blue')).operations;

    expect(await encrypt()).toBe('ok');
    expect(await draining).toMatchObject({ status: { clusterId: 'blue', drained: true }, inFlightLeft: 0, queuedLeft: 0 });
    expect(await Promise.all(inFlight)).toEqual(Array.from({ length: IN_FLIGHT }, () => 'ok'));
    // The call made while blue drained went to green, blue's only other holder of the key.
    expect((await http.cluster('blue')).operations).toBe(blueBefore);

    await admin.call.ResumeCluster({ clusterId: 'blue' });
    await http.setFaults('blue', {});
    expect(await encrypt()).toBe('ok');
    expect((await http.cluster('blue')).operations).toBe(blueBefore + 1);
  }, 30_000);

  it('lets a queued call leave the bulkhead at its own deadline while the calls ahead of it still hang', async () => {
    await http.setFaults('blue', { hang: true });
    const ahead = Array.from({ length: IN_FLIGHT }, () => encrypt());
    await waitFor('the calls ahead in flight', async () => (await http.cluster('blue')).inFlight === IN_FLIGHT, 10_000, 20);
    const queued = Array.from({ length: QUEUE }, () => encrypt(200));
    await new Promise((r) => setTimeout(r, 700));

    // The calls ahead hang until the operation limit (1,500 ms); the queued ones are gone already.
    expect(await http.cluster('blue')).toMatchObject({ inFlight: IN_FLIGHT, queued: 0 });
    expect((await Promise.all(queued)).map((o) => o.split(':')[0])).toEqual(Array.from({ length: QUEUE }, () => 'DEADLINE_EXCEEDED'));
    expect(await Promise.all(ahead)).toEqual(Array.from({ length: IN_FLIGHT }, () => 'DEADLINE_EXCEEDED: the deadline passed before the HSM answered'));
  }, 30_000);

  it('sheds what the bulkhead cannot hold at once with RESOURCE_EXHAUSTED, and ends the rest at the gateway\'s operation limit, queued calls too', async () => {
    const started = Date.now();
    const settledAfter: number[] = [];
    const calls = Array.from({ length: IN_FLIGHT + QUEUE + 1 }, () =>
      encrypt().then((o) => {
        settledAfter.push(Date.now() - started);
        return o;
      }),
    );
    const outcomes = await Promise.all(calls);

    expect(outcomes.sort()).toEqual([
      ...Array.from({ length: IN_FLIGHT + QUEUE }, () => 'DEADLINE_EXCEEDED: the deadline passed before the HSM answered'),
      'RESOURCE_EXHAUSTED: too many requests in flight; try again later',
    ]);
    // The HSM is still hung: the calls ended because the gateway gave up on them, not because it answered.
    expect(Math.max(...settledAfter)).toBeGreaterThanOrEqual(OPERATION_LIMIT_MS - 50);
    expect(await http.cluster('blue')).toMatchObject({ queued: 0 });
  }, 30_000);

  it('opens the hung cluster\'s breaker from those timeouts, then serves every call from the other cluster', async () => {
    // Blue's calls keep timing out (the fault is still on) until its breaker has seen enough of them.
    for (let round = 0; (await http.cluster('blue')).breaker !== 'open'; round += 1) {
      if (round === 10) throw new Error('blue\'s breaker did not open after 10 rounds of timeouts');
      await Promise.all(Array.from({ length: IN_FLIGHT }, encrypt));
    }
    const blueBefore = (await http.cluster('blue')).operations;

    const outcomes = await Promise.all(Array.from({ length: 50 }, encrypt));

    expect(outcomes.filter((o) => o !== 'ok')).toEqual([]);
    expect((await http.cluster('blue')).operations).toBe(blueBefore);
    await http.setFaults('blue', {});
  }, 60_000);
});

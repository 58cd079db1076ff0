import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { MessageTypes, Topics, createMessage, decodeMessage, dlqTopic, encodeMessage } from '@keyfleet/contracts';
import { createGatewayClient, devIdentity, type GatewayClient } from '@keyfleet/crypto-client';
import { DeadLetterHeaders } from '@keyfleet/messaging';
import { WORKSPACE_ROOT, builtEntry, deleteTopicsWithPrefix, freePort, infraEnv, startService, type ServiceProcess } from '@keyfleet/testing';
import { createGatewayEstate, type GatewayEstate } from './testing/gateway-estate.test-kit';
import { gatewayEnv } from './testing/gateway-process.test-kit';

interface StatusJson {
  clusters: { clusterId: string; operations: number }[];
  rings: Record<string, { weights: Record<string, number> }>;
}

/**
 * The gateway steered by events, as rotation-, migration- and key-service will publish them:
 * weights, crypto-user switches and key state change without a restart or a failed request;
 * an event it cannot apply goes to the dead-letter topic with its reason.
 */
describe('crypto-gateway steered by control events on Kafka', () => {
  let estate: GatewayEstate;
  let gateway: ServiceProcess;
  let app: GatewayClient<'Crypto'>;
  let producer: Producer;
  const prefix = `it-gwctl-${randomBytes(3).toString('hex')}.`;
  const brokers = infraEnv('KAFKA_BROKERS').split(',');
  const kafka = new Kafka({ clientId: 'gw-control-it', brokers, logLevel: logLevel.NOTHING });

  const gatewayStatus = async () => (await (await fetch(`${gateway.url}/gateway/status`)).json()) as StatusJson;
  const operations = async (id: string) => (await gatewayStatus()).clusters.find((c) => c.clusterId === id)?.operations ?? -1;
  const grpcCode = (promise: Promise<unknown>) => promise.then(() => 'ok', (err: ServiceError) => `${status[err.code]}: ${err.details}`);
  const publish = (topic: string, key: string, value: Buffer) => producer.send({ topic: `${prefix}${topic}`, messages: [{ key, value }] });
  const event = (type: Parameters<typeof createMessage>[0]['type'], source: string, subject: string, data: object) =>
    encodeMessage(createMessage({ type, source, subject, actor: { kind: 'service', id: source }, data } as Parameters<typeof createMessage>[0]));
  const until = async (what: string, check: () => Promise<boolean>, onEachTry: () => Promise<unknown> = () => Promise.resolve(), timeoutMs = 30_000) => {
    const end = Date.now() + timeoutMs;
    for (;;) {
      await onEachTry();
      if (await check()) return;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  };
  const weights = (blue: number, green: number) => event(MessageTypes.RoutingWeightsChangedV1, 'migration-service', 'main', { ring: 'main', weights: { blue, green } });
  const encrypt = () => app.call.Encrypt({ keyAlias: 'orders', plaintext: Buffer.from('steered'), encryptionContext: {} });

  beforeAll(async () => {
    estate = await createGatewayEstate('gwctl', ['blue', 'green'], [100, 0], 4);
    const pki = join(estate.dir, 'pki');
    execFileSync('bash', [join(WORKSPACE_ROOT, 'tools/pki/dev-pki.sh'), pki], { stdio: 'ignore' });
    const policyFile = join(estate.dir, 'policy.json');
    writeFileSync(policyFile, JSON.stringify({ callers: { 'spiffe://keyfleet.local/app/app-demo': { keys: ['*'], operations: ['encrypt', 'decrypt', 'generate-mac'] } }, admin: [] }));
    const grpcPort = await freePort();
    gateway = await startService({
      entry: builtEntry('crypto-gateway'),
      port: await freePort(),
      env: gatewayEnv({ dir: estate.dir, clustersFile: estate.clustersFile, pki, policyFile, grpcPort, topicPrefix: prefix }),
    });
    app = createGatewayClient('Crypto', { address: `127.0.0.1:${grpcPort}`, ...devIdentity(pki, 'app-demo') });
    producer = kafka.producer();
    await producer.connect();
  }, 120_000);

  afterAll(async () => {
    app?.close();
    await producer?.disconnect();
    await gateway?.stop();
    estate?.remove();
    await deleteTopicsWithPrefix(brokers, prefix);
  }, 60_000);

  it('moves traffic when migration-service publishes new weights', async () => {
    // The gateway's consumer starts at the newest offsets: publish until it has joined and applied.
    await until('weights 0/100 applied', async () => (await gatewayStatus()).rings['main']?.weights['green'] === 100, () => publish(Topics.MigrationEvents, 'main', weights(0, 100)));
    const [blue, green] = [await operations('blue'), await operations('green')];

    await Promise.all(Array.from({ length: 40 }, () => encrypt()));

    expect(await operations('blue')).toBe(blue);
    expect(await operations('green')).toBe(green + 40);
  });

  it('switches a pool to rotated credentials when rotation-service says so, failing no request', async () => {
    await publish(Topics.MigrationEvents, 'main', weights(100, 0));
    await until('weights 100/0 applied', async () => (await gatewayStatus()).rings['main']?.weights['blue'] === 100);
    let stop = false;
    let failures = 0;
    const load = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!stop) await encrypt().catch(() => (failures += 1));
      }),
    );
    try {
      // The password changes under the running pool (its login stays valid), then the event moves it to the new one.
      await estate.rotatePassword('blue');
      const before = await switches();
      await publish(Topics.RotationEvents, 'blue', event(MessageTypes.CryptoUserSwitchedV1, 'rotation-service', 'blue', { clusterId: 'blue', secretId: estate.clusters[0]?.secretId }));
      await until('the switch audited', async () => (await switches()) > before);
    } finally {
      stop = true;
      await load;
    }
    expect(failures).toBe(0);
    // A fresh library instance logged in with the new password and serves.
    expect(await grpcCode(encrypt())).toBe('ok');
  });

  it('disables and re-enables a key when key-service publishes its state', async () => {
    const mac = () => app.call.GenerateMac({ keyAlias: 'sessions', message: Buffer.from('m'), macAlgorithm: 'HMAC_SHA_256' });
    const keyState = (enabled: boolean) => publish(Topics.KeyEvents, 'sessions', event(MessageTypes.KeyStateChangedV1, 'key-service', 'sessions', { alias: 'sessions', enabled }));

    await keyState(false);
    await until('sessions disabled', async () => (await grpcCode(mac())) === 'FAILED_PRECONDITION: key sessions is disabled');
    await keyState(true);
    await until('sessions enabled', async () => (await grpcCode(mac())) === 'ok');
  });

  it('dead-letters what it cannot read or apply, with the reason, and goes on with the next event', async () => {
    await publish(Topics.MigrationEvents, 'main', Buffer.from('not json'));
    await publish(Topics.MigrationEvents, 'nope', event(MessageTypes.RoutingWeightsChangedV1, 'migration-service', 'nope', { ring: 'nope', weights: { blue: 1 } }));
    await publish(Topics.MigrationEvents, 'main', weights(50, 50));
    await until('weights 50/50 applied', async () => (await gatewayStatus()).rings['main']?.weights['green'] === 50);

    const letters = await readAll(`${prefix}${dlqTopic(Topics.MigrationEvents)}`, 2);
    expect(letters.map((l) => l.headers[DeadLetterHeaders.ReasonCode])).toEqual(['MALFORMED_JSON', 'REJECTED_NOT_FOUND']);
    expect(letters[1]?.headers[DeadLetterHeaders.Reason]).toBe('no key ring nope');
    expect(letters[0]?.value).toBe('not json');
  });

  /** switch-crypto-user records that ended ok, on the gateway events topic. */
  async function switches(): Promise<number> {
    const records = await readAll(`${prefix}${Topics.GatewayEvents}`, 0, 2_000);
    return records.filter((r) => {
      const decoded = decodeMessage(Buffer.from(r.value));
      return decoded.ok && decoded.message.type === MessageTypes.GatewayAdminActionRecordedV1 && decoded.message.data.action === 'switch-crypto-user' && decoded.message.data.outcome === 'ok';
    }).length;
  }

  /** Every record of a topic from the start (at least `atLeast`, waiting up to `timeoutMs`). */
  async function readAll(topic: string, atLeast: number, timeoutMs = 20_000): Promise<{ value: string; headers: Record<string, string> }[]> {
    const consumer = kafka.consumer({ groupId: `${prefix}reader-${randomBytes(4).toString('hex')}` });
    const seen: { value: string; headers: Record<string, string> }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
        seen.push({ value: message.value?.toString() ?? '', headers });
      },
    });
    const end = Date.now() + timeoutMs;
    // Give the group time to be assigned and read what is there.
    await new Promise((r) => setTimeout(r, 1_500));
    while (seen.length < atLeast && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    await consumer.disconnect();
    return seen;
  }
});

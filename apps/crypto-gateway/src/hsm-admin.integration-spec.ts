import { execFileSync } from 'node:child_process';
import { constants, createDecipheriv, createPublicKey, generateKeyPairSync, privateDecrypt, verify as nodeVerify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { status, type ServiceError } from '@grpc/grpc-js';
import { Kafka, logLevel } from 'kafkajs';
import { MessageTypes, Topics, decodeMessage } from '@keyfleet/contracts';
import { createGatewayClient, devIdentity, type GatewayClient } from '@keyfleet/crypto-client';
import { additionalData, decodeCiphertext } from '@keyfleet/gateway';
import { WORKSPACE_ROOT, builtEntry, deleteTopicsWithPrefix, freePort, infraEnv, startService, type ServiceProcess } from '@keyfleet/testing';
import { CLI, createCloudHsmEstate, type CloudHsmEstate } from './testing/cloudhsm-estate.test-kit';
import { gatewayEnv, gatewayHttp } from './testing/gateway-process.test-kit';

const REGION = 'eu-west-3';
const CONTEXT = { tenant: '42' };


/**
 * HsmAdmin over real gRPC against cloudhsm-local: keys made, shared, wrapped, replicated and
 * destroyed through cloudhsm-cli become (or stop being) usable by the data plane at once;
 * crypto users are managed with passwords from the secret store only; the pool moves to
 * another crypto user and back under load; every admin request leaves one audit event.
 */
describe('crypto-gateway HsmAdmin over cloudhsm-cli, SoftHSM2 and Kafka', () => {
  let estate: CloudHsmEstate;
  let dir: string;
  let gateway: ServiceProcess;
  let admin: GatewayClient<'HsmAdmin'>;
  let app: GatewayClient<'Crypto'>;
  let address: string;
  let start: () => Promise<ServiceProcess>;
  let adminCalls = 0;
  const prefix = `it-gwadm-${Date.now().toString(36)}.`;
  const brokers = infraEnv('KAFKA_BROKERS').split(',');

  const grpcCode = (promise: Promise<unknown>) => promise.then(() => 'ok', (err: ServiceError) => `${status[err.code]}: ${err.details}`);
  /** Every HsmAdmin call of the suite goes through here, so the audit check knows how many there were. */
  const adm = (method: keyof GatewayClient<'HsmAdmin'>['call'], request: object) => {
    adminCalls += 1;
    return admin.call[method](request);
  };
  // The gateway restarts in one test: read through whichever process runs now.
  const clusterStatus = (id: string) => gatewayHttp(gateway).cluster(id);
  const encrypt = async (alias: string, text = 'order #1') => (await app.call.Encrypt({ keyAlias: alias, plaintext: Buffer.from(text), encryptionContext: CONTEXT })) as { ciphertext: Buffer; keyVersion: number };
  const decrypt = async (ciphertext: Buffer) => ((await app.call.Decrypt({ ciphertext, encryptionContext: CONTEXT })) as { plaintext: Buffer }).plaintext.toString();

  beforeAll(async () => {
    estate = await createCloudHsmEstate('gwadm', REGION);
    dir = mkdtempSync(join(tmpdir(), 'gw-admin-it-'));
    const pki = join(dir, 'pki');
    execFileSync('bash', [join(WORKSPACE_ROOT, 'tools/pki/dev-pki.sh'), pki], { stdio: 'ignore' });
    const cluster = (id: string, c: CloudHsmEstate['source']) => ({
      id,
      cloudhsmClusterId: c.clusterId,
      tokenLabel: `${c.clusterId}/gw_app`,
      secretId: c.secrets['gw_app'],
      adminSecretId: c.secrets['admin'],
      pinFormat: 'password',
      poolSize: 4,
    });
    const clustersFile = join(dir, 'clusters.json');
    writeFileSync(clustersFile, JSON.stringify({ clusters: [cluster('src', estate.source), cluster('clone', estate.clone)], rings: { main: { writeCluster: 'src', weights: { src: 100, clone: 0 } } }, keys: [] }));
    const policyFile = join(dir, 'policy.json');
    const operations = ['encrypt', 'decrypt', 'sign', 'verify', 'generate-mac', 'verify-mac', 'get-public-key'];
    writeFileSync(policyFile, JSON.stringify({ callers: { 'spiffe://keyfleet.local/app/app-demo': { keys: ['*'], operations } }, admin: ['spiffe://keyfleet.local/service/key-service'] }));
    const grpcPort = await freePort();
    const httpPort = await freePort();
    address = `127.0.0.1:${grpcPort}`;
    start = () =>
      startService({
        entry: builtEntry('crypto-gateway'),
        port: httpPort,
        env: gatewayEnv(
          { dir, clustersFile, pki, policyFile, grpcPort, topicPrefix: prefix },
          {
            LOG_LEVEL: 'info',
            GATEWAY_LOGIN_MARKER_DIR: join(dirname(infraEnv('SOFTHSM2_CONF')), 'logins'),
            AWS_REGION: REGION,
            CLOUDHSM_CLI: CLI,
            CLOUDHSM_LOCAL_ENDPOINT: infraEnv('CLOUDHSM_LOCAL_ENDPOINT'),
          },
        ),
      });
    gateway = await start();
    admin = createGatewayClient('HsmAdmin', { address, ...devIdentity(pki, 'key-service') });
    app = createGatewayClient('Crypto', { address, ...devIdentity(pki, 'app-demo') });
  }, 180_000);

  afterAll(async () => {
    admin?.close();
    app?.close();
    await gateway?.stop();
    await estate?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await deleteTopicsWithPrefix(brokers, prefix);
  }, 120_000);

  it('makes keys on the ring\'s write cluster with cloudhsm-cli, and the data plane uses them at once', async () => {
    const orders = await adm('GenerateKey', { alias: 'orders', ring: 'main', keySpec: 'AES_256', keyUsage: 'ENCRYPT_DECRYPT' });
    expect(orders).toMatchObject({ alias: 'orders', version: 1, label: 'orders/v1', clusterId: 'src' });
    expect(orders['objects']).toEqual([expect.objectContaining({ label: 'orders/v1', keyClass: 'secret-key', owners: ['gw_app'], extractable: true })]);
    await adm('GenerateKey', { alias: 'receipts', ring: 'main', keySpec: 'ECC_NIST_P256', keyUsage: 'SIGN_VERIFY' });
    await adm('GenerateKey', { alias: 'macs', ring: 'main', keySpec: 'HMAC_256', keyUsage: 'GENERATE_VERIFY_MAC' });

    const sealed = await encrypt('orders');
    expect(await decrypt(sealed.ciphertext)).toBe('order #1');
    const message = Buffer.from('receipt 9');
    const { signature } = (await app.call.Sign({ keyAlias: 'receipts', message, signingAlgorithm: 'ECDSA_SHA_256' })) as { signature: Buffer };
    const { publicKeyPem } = (await app.call.GetPublicKey({ keyAlias: 'receipts' })) as { publicKeyPem: string };
    expect(nodeVerify('sha256', message, createPublicKey(publicKeyPem), signature)).toBe(true);
    const { mac } = (await app.call.GenerateMac({ keyAlias: 'macs', message, macAlgorithm: 'HMAC_SHA_256' })) as { mac: Buffer };
    expect(await app.call.VerifyMac({ keyAlias: 'macs', message, mac, macAlgorithm: 'HMAC_SHA_256' })).toMatchObject({ macValid: true });
  });

  it('rotates: a new version becomes current and ciphertexts of the old one still decrypt', async () => {
    const old = await encrypt('orders', 'before rotation');
    expect(await adm('GenerateKey', { alias: 'orders', keySpec: 'AES_256', keyUsage: 'ENCRYPT_DECRYPT' })).toMatchObject({ version: 2, label: 'orders/v2' });

    expect((await encrypt('orders')).keyVersion).toBe(2);
    expect(old.keyVersion).toBe(1);
    expect(await decrypt(old.ciphertext)).toBe('before rotation');
  });

  it('sets a key\'s state: rolls the current version back and forward, and disables and enables it, taking effect at once', async () => {
    expect(await adm('SetKeyState', { alias: 'orders', currentVersion: 1 })).toMatchObject({ alias: 'orders', currentVersion: 1, enabled: true });
    expect((await encrypt('orders')).keyVersion).toBe(1);

    const sealed = await encrypt('orders', 'while disabled');
    expect(await adm('SetKeyState', { alias: 'orders', enablement: 'KEY_ENABLEMENT_DISABLE' })).toMatchObject({ enabled: false });
    expect(await grpcCode(encrypt('orders'))).toBe('FAILED_PRECONDITION: key orders is disabled');
    expect(await grpcCode(decrypt(sealed.ciphertext))).toBe('FAILED_PRECONDITION: key orders is disabled');

    expect(await adm('SetKeyState', { alias: 'orders', currentVersion: 2, enablement: 'KEY_ENABLEMENT_ENABLE' })).toMatchObject({ currentVersion: 2, enabled: true });
    expect((await encrypt('orders')).keyVersion).toBe(2);
    expect(await decrypt(sealed.ciphertext)).toBe('while disabled');
    expect(await grpcCode(adm('SetKeyState', { alias: 'orders', currentVersion: 9 }))).toBe('NOT_FOUND: key orders has no version 9');
  });

  it('replicates versions to the clone, which then serves them; a drained cluster gets no traffic until resumed', async () => {
    const v1 = await encrypt('orders', 'for the clone');
    for (const [alias, version] of [['orders', 1], ['orders', 2], ['receipts', 0]] as const) {
      expect(await adm('ReplicateKey', { alias, version, destinationClusterId: 'clone' })).toMatchObject({ sourceClusterId: 'src', destinationClusterId: 'clone' });
    }
    expect(await adm('ReplicateKey', { alias: 'orders', version: 2, destinationClusterId: 'clone' })).toMatchObject({ objectsCopied: 0 });
    await adm('SetRoutingWeights', { ring: 'main', weights: { src: 0, clone: 100 } });
    const before = (await clusterStatus('clone')).operations;
    expect(await decrypt(v1.ciphertext)).toBe('for the clone');
    await app.call.Sign({ keyAlias: 'receipts', message: Buffer.from('x'), signingAlgorithm: 'ECDSA_SHA_256' });
    expect((await clusterStatus('clone')).operations).toBe(before + 2);

    await adm('SetRoutingWeights', { ring: 'main', weights: { src: 50, clone: 50 } });
    expect(await adm('DrainCluster', { clusterId: 'clone' })).toMatchObject({ status: { clusterId: 'clone', drained: true }, inFlightLeft: 0, queuedLeft: 0 });
    const drainedAt = (await clusterStatus('clone')).operations;
    await Promise.all(Array.from({ length: 20 }, () => encrypt('orders')));
    expect((await clusterStatus('clone')).operations).toBe(drainedAt);
    await adm('ResumeCluster', { clusterId: 'clone' });
    expect((await clusterStatus('clone')).drained).toBe(false);
    await adm('SetRoutingWeights', { ring: 'main', weights: { src: 100, clone: 0 } });
  });

  it('wraps a key for a holder of an outside RSA key: what it unwraps is the key that sealed the gateway\'s ciphertexts', async () => {
    const outside = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = outside.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(await adm('ImportPublicKey', { clusterId: 'src', label: 'outside-kek', publicKeyPem: pem, wrap: true })).toMatchObject({ object: { label: 'outside-kek', keyClass: 'public-key' } });
    const sealed = await encrypt('orders', 'wrapped and carried away');

    const wrapped = (await adm('WrapKey', { alias: 'orders', wrappingKeyLabel: 'outside-kek', mechanism: 'RSA_AES', hash: 'SHA256' })) as { wrappedKey: Buffer; version: number };
    expect(wrapped.version).toBe(2);
    // RSA-AES (CKM_RSA_AES_KEY_WRAP): RSA-OAEP(SHA-256) of an ephemeral AES key, then RFC 5649 of the key.
    const aesKey = privateDecrypt({ key: outside.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, wrapped.wrappedKey.subarray(0, 256));
    const kwp = createDecipheriv('id-aes256-wrap-pad', aesKey, Buffer.from('a65959a6', 'hex'));
    const material = Buffer.concat([kwp.update(wrapped.wrappedKey.subarray(256)), kwp.final()]);
    const blob = decodeCiphertext(sealed.ciphertext);
    const gcm = createDecipheriv('aes-256-gcm', material, blob.iv).setAAD(additionalData(blob.header, CONTEXT));
    gcm.setAuthTag(blob.sealed.subarray(blob.sealed.length - 16));
    expect(Buffer.concat([gcm.update(blob.sealed.subarray(0, blob.sealed.length - 16)), gcm.final()]).toString()).toBe('wrapped and carried away');
  });

  it('moves a key under AES key wrap with padding into a new key that computes the same MACs', async () => {
    await adm('GenerateKey', { alias: 'kek', ring: 'main', keySpec: 'AES_256', keyUsage: 'WRAP_UNWRAP' });
    const wrapped = (await adm('WrapKey', { alias: 'macs', wrappingKeyAlias: 'kek', mechanism: 'AES_KEY_WRAP_PAD' })) as { wrappedKey: Buffer };
    const made = await adm('UnwrapKey', { clusterId: 'src', unwrappingKeyAlias: 'kek', mechanism: 'AES_KEY_WRAP_PAD', wrappedKey: wrapped.wrappedKey, alias: 'macs-copy', ring: 'main', keySpec: 'HMAC_256', keyUsage: 'GENERATE_VERIFY_MAC' });
    expect(made).toMatchObject({ alias: 'macs-copy', version: 1, clusterId: 'src' });

    const message = Buffer.from('same key, new name');
    const macOf = async (alias: string) => ((await app.call.GenerateMac({ keyAlias: alias, message, macAlgorithm: 'HMAC_SHA_256' })) as { mac: Buffer }).mac.toString('hex');
    expect(await macOf('macs-copy')).toBe(await macOf('macs'));
    expect(await grpcCode(adm('WrapKey', { alias: 'orders', wrappingKeyAlias: 'orders', mechanism: 'AES_KEY_WRAP_PAD' }))).toBe('FAILED_PRECONDITION: key orders is not a WRAP_UNWRAP key');
  });

  it('moves the pool to a standby crypto user the keys are shared with, changes the first user\'s password, and moves back, failing no request', async () => {
    const { source } = estate;
    const shared = (await adm('ShareKey', { alias: 'orders', username: 'gw_standby' })) as { changed: unknown[] };
    // Both versions, on both clusters holding them.
    expect(shared.changed).toHaveLength(4);
    const described = (await adm('DescribeKey', { alias: 'orders' })) as { versions: { clusters: { clusterId: string; objects: { sharedWith: string[] }[] }[] }[] };
    expect(described.versions[0]?.clusters.find((c) => c.clusterId === 'src')?.objects[0]?.sharedWith).toEqual(['gw_standby']);

    let stop = false;
    let failures = 0;
    let done = 0;
    const load = Promise.all(
      Array.from({ length: 8 }, async () => {
        while (!stop) {
          try {
            const sealed = await encrypt('orders', 'under rotation');
            if ((await decrypt(sealed.ciphertext)) !== 'under rotation') failures += 1;
            done += 1;
          } catch {
            failures += 1;
          }
        }
      }),
    );
    try {
      await adm('SwitchCryptoUser', { clusterId: 'src', secretId: source.secrets['gw_standby'], tokenLabel: `${source.clusterId}/gw_standby` });
      // gw_app is logged in nowhere on the source now: its password can change.
      await estate.stagePassword(source.secrets['gw_app'] ?? '');
      expect(await adm('ChangeCryptoUserPassword', { clusterId: 'src', secretId: source.secrets['gw_app'] })).toEqual({ clusterId: 'src', username: 'gw_app' });
      await estate.promotePending(source.secrets['gw_app'] ?? '');
      await adm('SwitchCryptoUser', { clusterId: 'src', secretId: source.secrets['gw_app'], tokenLabel: `${source.clusterId}/gw_app` });
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      stop = true;
      await load;
    }
    expect(failures).toBe(0);
    expect(done).toBeGreaterThan(50);
    // The clone's pool is logged in as gw_app: cloudhsm-local (as CloudHSM) refuses to change it under it.
    await estate.stagePassword(estate.clone.secrets['gw_app'] ?? '');
    expect(await grpcCode(adm('ChangeCryptoUserPassword', { clusterId: 'clone', secretId: estate.clone.secrets['gw_app'] }))).toMatch(/^FAILED_PRECONDITION: cluster clone: .*gw_app is logged in/);
    expect((await adm('UnshareKey', { alias: 'orders', username: 'gw_standby', version: 1 })) as { changed: unknown[] }).toMatchObject({
      changed: [
        { version: 1, clusterId: 'src' },
        { version: 1, clusterId: 'clone' },
      ],
    });
  });

  it('creates and deletes crypto users with passwords taken from the secret store, never from the request', async () => {
    const secretId = await estate.createSecret('source/gw_temp', 'gw_temp');
    expect(await adm('CreateCryptoUser', { clusterId: 'src', secretId })).toEqual({ clusterId: 'src', username: 'gw_temp' });
    expect(((await adm('ListCryptoUsers', { clusterId: 'src' })) as { users: { username: string }[] }).users.map((u) => u.username)).toEqual(
      expect.arrayContaining(['admin', 'gw_app', 'gw_standby', 'gw_temp']),
    );
    expect(await grpcCode(adm('CreateCryptoUser', { clusterId: 'src', secretId }))).toMatch(/^ALREADY_EXISTS: cluster src: /);
    expect(await adm('DeleteCryptoUser', { clusterId: 'src', username: 'gw_temp' })).toEqual({ clusterId: 'src', username: 'gw_temp' });
    expect(await grpcCode(adm('DeleteCryptoUser', { clusterId: 'src', username: 'gw_app' }))).toBe(
      "FAILED_PRECONDITION: gw_app is the crypto user of cluster src's pool: switch the pool to another crypto user first",
    );
  });

  it('destroys a version on every cluster holding it; its ciphertexts then name a version that no longer exists', async () => {
    const old = await encrypt('orders', 'v2 only for now');
    await adm('GenerateKey', { alias: 'orders', keySpec: 'AES_256', keyUsage: 'ENCRYPT_DECRYPT' });
    expect(await grpcCode(adm('DestroyKeyVersion', { alias: 'orders', version: 3 }))).toBe('FAILED_PRECONDITION: version 3 is the current version of orders: make another version current first');

    expect(await adm('DestroyKeyVersion', { alias: 'orders', version: 2 })).toEqual({ alias: 'orders', version: 2, clusterIds: ['src', 'clone'] });
    expect(await grpcCode(app.call.Decrypt({ ciphertext: old.ciphertext, encryptionContext: CONTEXT }))).toBe('NOT_FOUND: key orders has no version 2');
    const listed = (await adm('ListKeys', { clusterId: 'clone' })) as { objects: { label: string; managed: boolean }[]; keys: { alias: string; versions: { version: number }[] }[] };
    expect(listed.objects.map((o) => o.label)).not.toContain('orders/v2');
    expect(listed.keys.find((k) => k.alias === 'orders')?.versions.map((v) => v.version)).toEqual([1, 3]);
  });

  it('answers bad admin requests with a status and a reason', async () => {
    expect(await grpcCode(adm('GenerateKey', { alias: 'x', ring: 'main', keySpec: 'AES_999', keyUsage: 'ENCRYPT_DECRYPT' }))).toMatch(/^INVALID_ARGUMENT: key_spec must be one of AES_256, /);
    expect(await grpcCode(adm('GenerateKey', { alias: 'orders', keySpec: 'HMAC_256', keyUsage: 'GENERATE_VERIFY_MAC' }))).toBe('FAILED_PRECONDITION: key orders is a AES_256 ENCRYPT_DECRYPT key of ring main');
    expect(await grpcCode(adm('DescribeKey', { alias: 'nope' }))).toBe('NOT_FOUND: no key with alias nope');
    expect(await grpcCode(adm('ReplicateKey', { alias: 'orders', destinationClusterId: 'nowhere' }))).toBe('FAILED_PRECONDITION: cluster nowhere has no admin interface configured');
    expect(await grpcCode(adm('UnwrapKey', { clusterId: 'src', mechanism: 'RSA_AES', alias: 'y', ring: 'main', keySpec: 'AES_256', keyUsage: 'ENCRYPT_DECRYPT' }))).toBe('INVALID_ARGUMENT: wrapped_key is required');
  });

  it('records one admin action per request on the gateway events topic, and no secret in any event or log line', async () => {
    const kafka = new Kafka({ clientId: 'gw-admin-it', brokers, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId: `${prefix}check` });
    const seen: { type: string; raw: string }[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: `${prefix}${Topics.GatewayEvents}`, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const raw = message.value?.toString() ?? '';
        const decoded = decodeMessage(message.value ?? Buffer.alloc(0));
        seen.push({ type: decoded.ok ? decoded.message.type : 'invalid', raw });
      },
    });
    try {
      const end = Date.now() + 30_000;
      while (seen.filter((s) => s.type === MessageTypes.GatewayAdminActionRecordedV1).length < adminCalls && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    } finally {
      await consumer.disconnect();
    }
    expect(seen.filter((s) => s.type === MessageTypes.GatewayAdminActionRecordedV1)).toHaveLength(adminCalls);
    const logs = gateway.output();
    expect(logs).toContain('"action":"create-crypto-user"');
    for (const password of estate.passwords) {
      expect(seen.some((s) => s.raw.includes(password))).toBe(false);
      expect(logs.includes(password)).toBe(false);
    }
    expect(seen.find((s) => s.raw.includes('"action":"create-crypto-user"'))?.raw).toContain('"username":"gw_temp"');
  });

  it('keeps the keys it made across a restart', async () => {
    const sealed = await encrypt('orders', 'across a restart');
    await gateway.stop();
    gateway = await start();

    expect(await decrypt(sealed.ciphertext)).toBe('across a restart');
    expect((await adm('DescribeKey', { alias: 'receipts' })) as { key: { versions: { clusterIds: string[] }[] } }).toMatchObject({ key: { versions: [{ clusterIds: ['src', 'clone'] }] } });
  });
});

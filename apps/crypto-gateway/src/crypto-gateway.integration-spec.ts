import { execFileSync } from 'node:child_process';
import { X509Certificate, createHash, createHmac, createPublicKey, randomBytes, verify as nodeVerify, constants } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { ConfigResourceTypes, Kafka, logLevel } from 'kafkajs';
import { MessageTypes, Topics, decodeMessage, type GatewayBreakerStateChangedV1 } from '@keyfleet/contracts';
import { createGatewayClient, devIdentity, loadGatewayService, type GatewayClient } from '@keyfleet/crypto-client';
import { WORKSPACE_ROOT, deleteTopicsWithPrefix, freePort, type ServiceProcess } from '@keyfleet/testing';
import { createGatewayEstate, type GatewayEstate } from './testing/gateway-estate.test-kit';
import { gatewayHttp, type GatewayHttp, shippedGatewayLaunch, startShippedGateway, topicReader, waitFor, type ClusterStatusJson } from './testing/gateway-process.test-kit';

const POOL_SIZE = 4;
const kafkaScript = join(WORKSPACE_ROOT, 'tools/infra/kafka.sh');

describe('crypto-gateway over real gRPC, SoftHSM2 and Kafka', () => {
  let estate: GatewayEstate;
  let gateway: ServiceProcess;
  let http: GatewayHttp;
  let app: GatewayClient<'Crypto'>;
  let address: string;
  let pki: string;
  const prefix = `it-gw-${randomBytes(3).toString('hex')}.`;
  const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',');

  const client = (name: string) => createGatewayClient('Crypto', { address, ...devIdentity(pki, name) });
  const adminClient = (name: string) => createGatewayClient('HsmAdmin', { address, ...devIdentity(pki, name) });
  const grpcCode = (promise: Promise<unknown>) => promise.then(() => 'ok', (err: ServiceError) => `${status[err.code]}: ${err.details}`);
  const encrypt = (c: GatewayClient<'Crypto'>, plaintext = Buffer.from('hello')) => c.call.Encrypt({ keyAlias: 'orders', plaintext, encryptionContext: { tenant: '7' } });
  /** A cluster's value of a gauge in the gateway's Prometheus exposition (NaN when it has none). */
  const clusterGauge = async (name: string, cluster: string) => {
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    const line = metrics.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`cluster="${cluster}"`));
    return Number(line?.split(' ').pop() ?? Number.NaN);
  };
  const kafka = new Kafka({ clientId: 'it-gw', brokers, logLevel: logLevel.NOTHING });
  const readTopic = topicReader(kafka, prefix);

  beforeAll(async () => {
    estate = await createGatewayEstate('gw', ['blue', 'green'], [90, 10], POOL_SIZE);
    pki = join(estate.dir, 'pki');
    execFileSync('bash', [join(WORKSPACE_ROOT, 'tools/pki/dev-pki.sh'), pki, '--client', 'app-other'], { stdio: 'ignore' });
    // A third cluster whose token does not exist: the gateway must start anyway and keep it out of service.
    const file = JSON.parse(readFileSync(estate.clustersFile, 'utf8')) as { clusters: object[]; rings: Record<string, object>; keys: object[] };
    file.clusters.push({ id: 'ghost', tokenLabel: 'no-such-token', secretId: estate.clusters[0]?.secretId, poolSize: 2 });
    file.rings['ghost'] = { writeCluster: 'ghost', weights: { ghost: 100 } };
    file.keys.push({ alias: 'ghost-key', ring: 'ghost', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', currentVersion: 1, versions: [{ version: 1, label: 'orders/v1', clusters: ['ghost'] }] });
    writeFileSync(estate.clustersFile, JSON.stringify(file));
    const policyFile = join(estate.dir, 'policy.json');
    writeFileSync(
      policyFile,
      JSON.stringify({
        callers: {
          'spiffe://keyfleet.local/app/app-demo': {
            keys: ['orders', 'receipts', 'receipts384', 'statements', 'sessions', 'sessions384', 'sessions512', 'disabled', 'missing', 'ghost-key'],
            operations: ['encrypt', 'decrypt', 'generate-data-key', 'generate-data-key-without-plaintext', 'sign', 'verify', 'generate-mac', 'verify-mac', 'get-public-key', 'generate-random'],
          },
          'spiffe://keyfleet.local/app/app-other': { keys: ['receipts'], operations: ['verify'] },
        },
        admin: ['spiffe://keyfleet.local/service/key-service'],
      }),
    );
    const grpcPort = await freePort();
    address = `127.0.0.1:${grpcPort}`;
    // Launched as the platform ships it (node flags, allocator), so the whole suite runs that way.
    gateway = await startShippedGateway(
      { dir: estate.dir, clustersFile: estate.clustersFile, pki, policyFile, grpcPort, topicPrefix: prefix },
      { GATEWAY_BREAKER_VOLUME: '10', GATEWAY_BREAKER_RESET_MS: '1000', GATEWAY_BREAKER_WINDOW_MS: '2000', GATEWAY_FAULTS: 'on' },
    );
    http = gatewayHttp(gateway);
    app = client('app-demo');
  }, 120_000);

  afterAll(async () => {
    app?.close();
    await gateway?.stop();
    estate?.remove();
    await deleteTopicsWithPrefix(brokers, prefix);
  }, 60_000);

  it('encrypts and decrypts with the context bound; tampering or another context fails authentication', async () => {
    const sealed = await encrypt(app, Buffer.from('card 4111'));
    expect(sealed).toMatchObject({ keyAlias: 'orders', keyVersion: 2 });

    const opened = await app.call.Decrypt({ ciphertext: sealed['ciphertext'], encryptionContext: { tenant: '7' } });
    expect(opened).toMatchObject({ plaintext: Buffer.from('card 4111'), keyAlias: 'orders', keyVersion: 2 });

    const tampered = Buffer.from(sealed['ciphertext'] as Buffer);
    tampered[tampered.length - 3] = (tampered[tampered.length - 3] ?? 0) ^ 0x40;
    expect(await grpcCode(app.call.Decrypt({ ciphertext: tampered, encryptionContext: { tenant: '7' } }))).toBe('INVALID_ARGUMENT: ciphertext authentication failed');
    expect(await grpcCode(app.call.Decrypt({ ciphertext: sealed['ciphertext'], encryptionContext: { tenant: '8' } }))).toBe('INVALID_ARGUMENT: ciphertext authentication failed');
  });

  it('runs as the platform launches it: tcmalloc preloaded, garbage collected on the main thread, both in its status', async () => {
    const maps = readFileSync(`/proc/${gateway.pid}/maps`, 'utf8');
    expect(maps).toMatch(/\/libtcmalloc_minimal\.so\.4(\.\S*)?\n/);
    expect(readFileSync(`/proc/${gateway.pid}/cmdline`, 'utf8').split('\0')).toContain('--single-threaded-gc');
    // Operators see the same in the status (a deployment without LD_PRELOAD would say glibc).
    const status = (await (await fetch(`${gateway.url}/gateway/status`)).json()) as { process: { allocator: string; nodeFlags: string[] } };
    expect(status.process).toEqual({ allocator: 'tcmalloc', nodeFlags: ['--single-threaded-gc'] });
    // glibc's malloc on request; an unknown allocator is refused with a reason, not ignored.
    expect(shippedGatewayLaunch('glibc').env).toEqual({});
    expect(() => shippedGatewayLaunch('jemalloc')).toThrow(/GATEWAY_ALLOCATOR must be tcmalloc or glibc, not 'jemalloc'/);
  });

  it('runs the PKCS#11 operations on its worker threads by default, and says so in its status', async () => {
    type Workers = { calls: string; workers: number; outstanding: number; jobs: number; messages: number };
    const workers = async () => ((await (await fetch(`${gateway.url}/gateway/status`)).json()) as { pkcs11Workers: Workers }).pkcs11Workers;
    const before = await workers();

    const sealed = await Promise.all(Array.from({ length: 20 }, (_, i) => encrypt(app, Buffer.from(`item ${i}`))));
    await Promise.all(sealed.map((s) => app.call.Decrypt({ ciphertext: s['ciphertext'], encryptionContext: { tenant: '7' } })));

    const after = await workers();
    expect(after).toMatchObject({ calls: 'sync', workers: 2, outstanding: 0 });
    expect(after.jobs - before.jobs).toBeGreaterThanOrEqual(40);
    expect(after.messages).toBeLessThanOrEqual(after.jobs);
    // How busy the threads were, for operators: both event loops' busy time grows with the work.
    const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
    const gauge = (name: string) => Number(metrics.split('\n').find((l) => l.startsWith(`${name}{`))?.split(' ').pop() ?? Number.NaN);
    expect(gauge('keyfleet_gateway_pkcs11_worker_busy_seconds')).toBeGreaterThan(0);
    expect(gauge('keyfleet_gateway_event_loop_busy_seconds')).toBeGreaterThan(0);
    expect(gauge('keyfleet_gateway_pkcs11_worker_replies')).toBeGreaterThanOrEqual(after.messages);
  });

  it('still decrypts a ciphertext of an older key version', async () => {
    const old = estate.sealOrdersV1(Buffer.from('written last year'), { tenant: '7' });

    expect(await app.call.Decrypt({ ciphertext: old, encryptionContext: { tenant: '7' } })).toMatchObject({ plaintext: Buffer.from('written last year'), keyVersion: 1 });
  });

  it('makes data keys for envelope encryption', async () => {
    const withPlaintext = await app.call.GenerateDataKey({ keyAlias: 'orders', encryptionContext: { file: 'a' } });
    const without = await app.call.GenerateDataKeyWithoutPlaintext({ keyAlias: 'orders', encryptionContext: {} });

    expect(withPlaintext['plaintext']).toHaveLength(32);
    expect((await app.call.Decrypt({ ciphertext: withPlaintext['ciphertextBlob'], encryptionContext: { file: 'a' } }))['plaintext']).toEqual(withPlaintext['plaintext']);
    expect((await app.call.Decrypt({ ciphertext: without['ciphertextBlob'], encryptionContext: {} }))['plaintext']).toHaveLength(32);
  });

  // PSS: the gateway signs with a salt as long as the digest (node checks the length it is given).
  const pss = (saltLength: number) => ({ padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
  it.each([
    ['receipts', 'ECDSA_SHA_256', 'sha256', {}],
    ['receipts', 'ECDSA_SHA_384', 'sha384', {}],
    ['receipts384', 'ECDSA_SHA_384', 'sha384', {}],
    ['receipts384', 'ECDSA_SHA_512', 'sha512', {}],
    ['statements', 'RSASSA_PSS_SHA_256', 'sha256', pss(32)],
    ['statements', 'RSASSA_PSS_SHA_384', 'sha384', pss(48)],
    ['statements', 'RSASSA_PSS_SHA_512', 'sha512', pss(64)],
    ['statements', 'RSASSA_PKCS1_V1_5_SHA_256', 'sha256', {}],
    ['statements', 'RSASSA_PKCS1_V1_5_SHA_384', 'sha384', {}],
    ['statements', 'RSASSA_PKCS1_V1_5_SHA_512', 'sha512', {}],
  ] as const)('signs with %s (%s), message or digest, verifiably by anyone with the public key', async (alias, algorithm, hash, padding) => {
    const message = Buffer.from('pay 10 EUR to Alice');
    const signed = await app.call.Sign({ keyAlias: alias, message, messageType: 'RAW', signingAlgorithm: algorithm });
    const digest = createHash(hash).update(message).digest();
    const fromDigest = await app.call.Sign({ keyAlias: alias, message: digest, messageType: 'DIGEST', signingAlgorithm: algorithm });

    for (const signature of [signed['signature'], fromDigest['signature']] as Buffer[]) {
      expect(nodeVerify(hash, message, { key: estate.publicKeys[alias], ...padding }, signature)).toBe(true);
      expect(await app.call.Verify({ keyAlias: alias, message, messageType: 'RAW', signature, signingAlgorithm: algorithm })).toMatchObject({ signatureValid: true });
      expect(await app.call.Verify({ keyAlias: alias, message: digest, messageType: 'DIGEST', signature, signingAlgorithm: algorithm })).toMatchObject({ signatureValid: true });
    }
    const otherDigest = createHash(hash).update('pay 99 EUR').digest();
    expect(await app.call.Verify({ keyAlias: alias, message: Buffer.from('pay 99 EUR'), messageType: 'RAW', signature: signed['signature'], signingAlgorithm: algorithm })).toMatchObject({ signatureValid: false });
    expect(await app.call.Verify({ keyAlias: alias, message: otherDigest, messageType: 'DIGEST', signature: signed['signature'], signingAlgorithm: algorithm })).toMatchObject({ signatureValid: false });
  });

  it('returns the P-384 public key as imported, with its spec and the ECDSA algorithms', async () => {
    const publicKey = await app.call.GetPublicKey({ keyAlias: 'receipts384' });
    const der = createPublicKey({ key: publicKey['publicKeyDer'] as Buffer, format: 'der', type: 'spki' });

    expect(der.equals(estate.publicKeys.receipts384)).toBe(true);
    expect(der.asymmetricKeyDetails).toMatchObject({ namedCurve: 'secp384r1' });
    expect(publicKey).toMatchObject({ keySpec: 'ECC_NIST_P384', signingAlgorithms: ['ECDSA_SHA_256', 'ECDSA_SHA_384', 'ECDSA_SHA_512'] });
  });

  it('computes and verifies HMACs, returns public keys and random bytes', async () => {
    const { mac } = await app.call.GenerateMac({ keyAlias: 'sessions', message: Buffer.from('sid=1'), macAlgorithm: 'HMAC_SHA_256' });
    expect(await app.call.VerifyMac({ keyAlias: 'sessions', message: Buffer.from('sid=1'), mac, macAlgorithm: 'HMAC_SHA_256' })).toMatchObject({ macValid: true });
    expect(await app.call.VerifyMac({ keyAlias: 'sessions', message: Buffer.from('sid=2'), mac, macAlgorithm: 'HMAC_SHA_256' })).toMatchObject({ macValid: false });

    const publicKey = await app.call.GetPublicKey({ keyAlias: 'receipts' });
    expect(createPublicKey({ key: publicKey['publicKeyDer'] as Buffer, format: 'der', type: 'spki' }).equals(estate.publicKeys.receipts)).toBe(true);
    expect(publicKey).toMatchObject({ keySpec: 'ECC_NIST_P256', signingAlgorithms: ['ECDSA_SHA_256', 'ECDSA_SHA_384', 'ECDSA_SHA_512'] });

    expect((await app.call.GenerateRandom({ numberOfBytes: 1024 }))['random']).toHaveLength(1024);
  });

  it.each([
    ['sessions', 'HMAC_SHA_256', 'sha256', 'sessions512', 'HMAC_512'],
    ['sessions384', 'HMAC_SHA_384', 'sha384', 'sessions', 'HMAC_256'],
    ['sessions512', 'HMAC_SHA_512', 'sha512', 'sessions384', 'HMAC_384'],
  ] as const)('computes %s MACs with %s as HMAC defines them, verifies them, and refuses the algorithm on a key of another size', async (alias, algorithm, hash, otherAlias, otherSpec) => {
    const hmac = (message: string) => createHmac(hash, estate.macKeys[alias]).update(message).digest();
    const { mac } = await app.call.GenerateMac({ keyAlias: alias, message: Buffer.from('sid=1'), macAlgorithm: algorithm });

    expect(mac).toEqual(hmac('sid=1'));
    expect(await app.call.VerifyMac({ keyAlias: alias, message: Buffer.from('sid=1'), mac, macAlgorithm: algorithm })).toMatchObject({ macValid: true });
    expect(await app.call.VerifyMac({ keyAlias: alias, message: Buffer.from('sid=2'), mac, macAlgorithm: algorithm })).toMatchObject({ macValid: false });
    // A MAC made outside the gateway verifies in it.
    expect(await app.call.VerifyMac({ keyAlias: alias, message: Buffer.from('sid=3'), mac: hmac('sid=3'), macAlgorithm: algorithm })).toMatchObject({ macValid: true });
    expect(await grpcCode(app.call.GenerateMac({ keyAlias: otherAlias, message: Buffer.from('sid=1'), macAlgorithm: algorithm }))).toBe(
      `FAILED_PRECONDITION: ${algorithm} is not supported by a ${otherSpec} key`,
    );
  });

  it('serves batches item by item', async () => {
    const items = [0, 1, 2].map((i) => ({ keyAlias: i === 2 ? 'missing' : 'orders', plaintext: Buffer.from(`item ${i}`), encryptionContext: {} }));
    const { results } = (await app.call.EncryptBatch({ items })) as { results: { ok?: { ciphertext: Buffer }; error?: { code: number; message: string } }[] };

    expect(results.map((r) => (r.ok ? 'ok' : status[r.error?.code ?? 0]))).toEqual(['ok', 'ok', 'NOT_FOUND']);
    const decrypted = (await app.call.DecryptBatch({ items: results.slice(0, 2).map((r) => ({ ciphertext: r.ok?.ciphertext, encryptionContext: {} })) })) as { results: { ok: { plaintext: Buffer } }[] };
    expect(decrypted.results.map((r) => r.ok.plaintext.toString())).toEqual(['item 0', 'item 1']);
    const signed = (await app.call.SignBatch({ items: [{ keyAlias: 'receipts', message: Buffer.from('x'), messageType: 'RAW', signingAlgorithm: 'ECDSA_SHA_256' }] })) as { results: { ok: { signature: Buffer } }[] };
    expect(nodeVerify('sha256', Buffer.from('x'), estate.publicKeys.receipts, signed.results[0]?.ok.signature as Buffer)).toBe(true);
  });

  it('answers every item of a batch larger than a session takes, each with its own outcome: denied, unknown, tampered', async () => {
    // 72 items: more than two sessions' worth (32 items share one); one alias the policy does not allow, one unknown.
    const items = Array.from({ length: 72 }, (_, i) => ({ keyAlias: i === 10 ? 'payroll' : i === 20 ? 'missing' : 'orders', plaintext: Buffer.from(`item ${i}`), encryptionContext: { n: String(i) } }));
    const { results } = (await app.call.EncryptBatch({ items })) as { results: { ok?: { ciphertext: Buffer }; error?: { code: number; details: string } }[] };

    const outcome = (r: { ok?: unknown; error?: { code: number } }) => (r.ok ? 'ok' : status[r.error?.code ?? 0]);
    expect(results.map(outcome).filter((o) => o !== 'ok')).toEqual(['PERMISSION_DENIED', 'NOT_FOUND']);
    expect([outcome(results[10] ?? {}), outcome(results[20] ?? {})]).toEqual(['PERMISSION_DENIED', 'NOT_FOUND']);

    const sealed = results.flatMap((r, i) => (r.ok ? [{ ciphertext: r.ok.ciphertext, encryptionContext: { n: String(i) }, i }] : []));
    const tampered = Buffer.from(sealed[5]?.ciphertext as Buffer);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
    const blobs = sealed.map((s, n) => ({ ciphertext: n === 5 ? tampered : s.ciphertext, encryptionContext: s.encryptionContext }));
    const opened = (await app.call.DecryptBatch({ items: blobs })) as { results: { ok?: { plaintext: Buffer }; error?: { code: number } }[] };

    expect(opened.results.map(outcome).filter((o) => o !== 'ok')).toEqual(['INVALID_ARGUMENT']);
    expect(outcome(opened.results[5] ?? {})).toBe('INVALID_ARGUMENT');
    expect(opened.results.flatMap((r, n) => (r.ok && r.ok.plaintext.toString() !== `item ${sealed[n]?.i}` ? [n] : []))).toEqual([]);
  });

  it('answers bad requests with the promised statuses', async () => {
    expect(await grpcCode(app.call.Encrypt({ keyAlias: 'missing', plaintext: Buffer.from('x') }))).toBe('NOT_FOUND: no key with alias missing');
    expect(await grpcCode(app.call.Encrypt({ keyAlias: 'disabled', plaintext: Buffer.from('x') }))).toBe('FAILED_PRECONDITION: key disabled is disabled');
    expect(await grpcCode(app.call.Encrypt({ keyAlias: 'orders', plaintext: Buffer.alloc(64 * 1024 + 1) }))).toBe('INVALID_ARGUMENT: plaintext is larger than 65536 bytes');
    expect(await grpcCode(app.call.Sign({ keyAlias: 'orders', message: Buffer.from('x'), signingAlgorithm: 'ECDSA_SHA_256' }))).toBe('FAILED_PRECONDITION: key orders is a ENCRYPT_DECRYPT key');
    expect(await grpcCode(app.call.GenerateRandom({ numberOfBytes: 4096 }))).toBe('INVALID_ARGUMENT: number_of_bytes must be 1..1024');
    // A batch holds 1..256 items: an empty one and one of 257 are refused whole, before any work.
    const items = (n: number) => Array.from({ length: n }, () => ({ keyAlias: 'orders', plaintext: Buffer.from('x'), encryptionContext: {} }));
    expect(await grpcCode(app.call.EncryptBatch({ items: items(0) }))).toBe('INVALID_ARGUMENT: a batch has 1..256 items');
    expect(await grpcCode(app.call.EncryptBatch({ items: items(257) }))).toBe('INVALID_ARGUMENT: a batch has 1..256 items');
    expect(((await app.call.EncryptBatch({ items: items(256) })) as { results: unknown[] }).results).toHaveLength(256);
    // Larger than the gateway accepts at all (1 MiB): refused by the transport before any work.
    expect(await grpcCode(app.call.Encrypt({ keyAlias: 'orders', plaintext: Buffer.alloc(2 * 1024 * 1024) }))).toMatch(/^RESOURCE_EXHAUSTED/);
  });

  it('starts with a cluster whose token is missing, and keeps that cluster out of service', async () => {
    const ghost = (await http.clusters()).find((c) => c.clusterId === 'ghost') as ClusterStatusJson & { poolError?: string };

    expect(ghost.poolError).toMatch(/^TOKEN_NOT_FOUND: /);
    expect(await grpcCode(app.call.Encrypt({ keyAlias: 'ghost-key', plaintext: Buffer.from('x') }))).toBe('UNAVAILABLE: the cluster failed the request');
  });

  it('denies callers the policy does not allow, and HsmAdmin to applications', async () => {
    const other = client('app-other');
    const appAdmin = adminClient('app-demo');
    const serviceAdmin = adminClient('key-service');
    try {
      expect(await grpcCode(encrypt(other))).toMatch(/^PERMISSION_DENIED: /);
      expect(await grpcCode(appAdmin.call.GetClusterStatus({}))).toMatch(/^PERMISSION_DENIED: /);
      const adminStatus = await serviceAdmin.call.GetClusterStatus({});
      expect((adminStatus['clusters'] as { clusterId: string }[]).map((c) => c.clusterId).sort()).toEqual(['blue', 'ghost', 'green']);
    } finally {
      other.close();
      appAdmin.close();
      serviceAdmin.close();
    }
  });

  it('refuses at the transport a client without a certificate, and one with a certificate of another CA', async () => {
    // A second development PKI: its CA has the same name as ours and a key of its own.
    const otherPki = join(estate.dir, 'other-pki');
    execFileSync('bash', [join(WORKSPACE_ROOT, 'tools/pki/dev-pki.sh'), otherPki, '--client', 'app-demo'], { stdio: 'ignore' });
    const ca = readFileSync(join(pki, 'ca.crt'));
    expect(new X509Certificate(readFileSync(join(otherPki, 'ca.crt'))).subject).toBe(new X509Certificate(ca).subject);
    // Both trust the gateway's CA, so only the gateway's check of the client can refuse them.
    const Crypto = loadGatewayService('Crypto');
    const anonymous = new Crypto(address, credentials.createSsl(ca));
    const foreign = createGatewayClient('Crypto', { address, ...devIdentity(otherPki, 'app-demo'), caFile: join(pki, 'ca.crt') });
    const request = { numberOfBytes: 8 };
    const deadline = () => Date.now() + 10_000;
    try {
      const anonymousCall = new Promise((resolve, reject) => {
        const method = (anonymous as unknown as Record<string, (...args: unknown[]) => void>)['GenerateRandom'];
        if (!method) throw new Error('the Crypto service has no GenerateRandom');
        method.call(anonymous, request, new Metadata(), { deadline: deadline() }, (err: ServiceError | null, response: unknown) => (err ? reject(err) : resolve(response)));
      });
      expect(await grpcCode(anonymousCall)).toMatch(/^UNAVAILABLE: /);
      expect(await grpcCode(foreign.call.GenerateRandom(request, { deadline: deadline() }))).toMatch(/^UNAVAILABLE: /);
      // The same request with our CA's certificate for app-demo is answered.
      expect(await grpcCode(app.call.GenerateRandom(request, { deadline: deadline() }))).toBe('ok');
    } finally {
      anonymous.close();
      foreign.close();
    }
  });

  it('never opens more sessions than the pool size and logs each pool in once, under 600 concurrent requests', async () => {
    // Each cluster looks the key up on its first use: have both used it before counting (routing is random at 90/10).
    const admin = adminClient('key-service');
    try {
      for (const weights of [{ blue: 100, green: 0 }, { blue: 0, green: 100 }, { blue: 90, green: 10 }]) {
        await admin.call.SetRoutingWeights({ ring: 'main', weights });
        await encrypt(app);
      }
    } finally {
      admin.close();
    }
    const before = await http.clusters();
    const results = await Promise.all(Array.from({ length: 600 }, (_, i) => encrypt(app, Buffer.from(`m${i}`))));
    expect(results).toHaveLength(600);

    for (const cluster of (await http.clusters()).filter((c) => c.clusterId !== 'ghost')) {
      expect(cluster.pool.open).toBeLessThanOrEqual(POOL_SIZE);
      // The most sessions open at once since the pool started, not only what is open now: the
      // load (90% of it to blue) filled blue's pool and never went past it.
      const mostOpen = await clusterGauge('keyfleet_gateway_pkcs11_sessions_max', cluster.clusterId);
      expect(mostOpen).toBeLessThanOrEqual(POOL_SIZE);
      expect(mostOpen).toBeGreaterThanOrEqual(cluster.clusterId === 'blue' ? POOL_SIZE : 1);
      expect(cluster.crypto.logins).toBe(1);
      // One search per key label and object class, whatever the number of operations: the estate
      // has 11 (orders v1 and v2, three HMAC keys; receipts, receipts384, statements: private and public).
      expect(cluster.crypto.objectSearches).toBeLessThanOrEqual(11);
      expect(cluster.crypto.objectSearches).toBe(before.find((c) => c.clusterId === cluster.clusterId)?.crypto.objectSearches);
    }
  });

  it('keeps 90/10 weights within tolerance over 10,000 requests', async () => {
    const [blue0, green0] = [await http.cluster('blue'), await http.cluster('green')];
    for (let done = 0; done < 10_000; done += 250) await Promise.all(Array.from({ length: 250 }, () => app.call.GenerateMac({ keyAlias: 'sessions', message: Buffer.from('w'), macAlgorithm: 'HMAC_SHA_256' })));
    const [blue, green] = [await http.cluster('blue'), await http.cluster('green')];
    const share = (green.operations - green0.operations) / (blue.operations - blue0.operations + green.operations - green0.operations);

    expect(blue.operations - blue0.operations + green.operations - green0.operations).toBe(10_000);
    expect(share).toBeGreaterThan(0.085);
    expect(share).toBeLessThan(0.115);
  }, 120_000);

  it('opens the failing cluster\'s breaker, fails over to the other, and closes it after recovery, telling Kafka and the metrics', async () => {
    const started = Date.now();
    const changes: GatewayBreakerStateChangedV1[] = [];
    const stopReading = await readTopic(Topics.GatewayEvents, (value) => {
      const decoded = decodeMessage(value);
      if (decoded.ok && decoded.message.type === MessageTypes.GatewayBreakerStateChangedV1 && decoded.message.subject === 'blue' && Date.parse(decoded.message.time) >= started) {
        changes.push(decoded.message.data);
      }
    });
    const breakerGauge = () => clusterGauge('keyfleet_gateway_breaker_open', 'blue');
    try {
      expect(await breakerGauge()).toBe(0);
      await http.setFaults('blue', { errorRate: 1 });
      try {
        // Until the breaker opens, failures are retried on green within the retry budget.
        await Promise.all(Array.from({ length: 100 }, () => grpcCode(encrypt(app))));
        // Open in the status and the metrics (it turns half-open after 1 s, and open again while blue fails).
        await waitFor('blue breaker open', async () => {
          await Promise.all(Array.from({ length: 20 }, () => grpcCode(encrypt(app))));
          return (await http.cluster('blue')).breaker === 'open' && (await breakerGauge()) === 1;
        });
        // Open: everything goes to green, nothing fails.
        const [blueBefore, greenBefore] = [(await http.cluster('blue')).operations, (await http.cluster('green')).operations];
        const outcomes = await Promise.all(Array.from({ length: 200 }, () => grpcCode(encrypt(app))));
        expect(outcomes.filter((o) => o !== 'ok')).toEqual([]);
        expect((await http.cluster('blue')).operations).toBe(blueBefore);
        expect((await http.cluster('green')).operations - greenBefore).toBe(200);
      } finally {
        await http.setFaults('blue', {});
      }
      await waitFor('blue breaker closed again', async () => {
        await Promise.all(Array.from({ length: 20 }, () => encrypt(app)));
        return (await http.cluster('blue')).breaker === 'closed';
      });
      expect(await breakerGauge()).toBe(0);
      const blueBefore = (await http.cluster('blue')).operations;
      await Promise.all(Array.from({ length: 200 }, () => encrypt(app)));
      expect((await http.cluster('blue')).operations - blueBefore).toBeGreaterThan(100);

      // One event per change: open, half-open (and open again while blue still failed), then closed.
      await waitFor('the breaker events up to closed', () => Promise.resolve(changes.at(-1)?.to === 'closed'));
      const path = changes.map((c) => `${c.from}>${c.to}`);
      expect(path[0]).toBe('closed>open');
      expect(path.slice(-2)).toEqual(['open>half-open', 'half-open>closed']);
      expect(changes.slice(1).filter((c, i) => c.from !== changes[i]?.to)).toEqual([]);
      expect(changes[0]?.errorPercentage).toBeGreaterThanOrEqual(10);
    } finally {
      await stopReading();
    }
  }, 60_000);

  it('changes weights and switches the crypto user under load without failing a request', async () => {
    const admin = adminClient('key-service');
    try {
      let stop = false;
      const failures: string[] = [];
      let done = 0;
      const load = Promise.all(
        Array.from({ length: 16 }, async () => {
          while (!stop) {
            const outcome = await grpcCode(encrypt(app));
            if (outcome !== 'ok') failures.push(outcome);
            done += 1;
          }
        }),
      );
      await waitFor('load running', () => Promise.resolve(done > 200));
      await admin.call.SetRoutingWeights({ ring: 'main', weights: { blue: 0, green: 100 } });
      await estate.rotatePassword('blue');
      const blueCluster = estate.clusters.find((c) => c.id === 'blue');
      await admin.call.SwitchCryptoUser({ clusterId: 'blue', secretId: blueCluster?.secretId, tokenLabel: '' });
      await admin.call.SetRoutingWeights({ ring: 'main', weights: { blue: 50, green: 50 } });
      const at = done;
      await waitFor('load continuing on the new pool', () => Promise.resolve(done > at + 500));
      stop = true;
      await load;

      expect(failures).toEqual([]);
      // The new pool (new library instance, new password) logged in exactly once.
      expect((await http.cluster('blue')).crypto.logins).toBe(1);
    } finally {
      await admin.call.SetRoutingWeights({ ring: 'main', weights: { blue: 90, green: 10 } });
      admin.close();
    }
  }, 60_000);

  it('writes one audit record per operation, never with data, and spools them while Kafka is down', async () => {
    /**
     * Reads the audit topic from the beginning with a group of its own. A reader never lives
     * across the broker's restart: a kafkajs consumer that crashed while the broker was away
     * restarts itself later, also after its disconnect, and would keep the test process alive.
     */
    const reader = async () => {
      const seen: { id: string; operation: string; outcome: string }[] = [];
      const raw: string[] = [];
      const stop = await readTopic(Topics.CryptoOps, (value) => {
        raw.push(value.toString('base64'));
        const decoded = decodeMessage(value);
        if (decoded.ok) seen.push({ id: decoded.message.id, ...(decoded.message.data as { operation: string; outcome: string }) });
      });
      const settled = async () => {
        const n = seen.length;
        await new Promise((r) => setTimeout(r, 2000));
        return seen.length === n;
      };
      return { seen, raw, settled, stop };
    };

    const before = await reader();
    const earlier = new Set<string>();
    try {
      const { seen, raw, settled } = before;
      await waitFor('earlier records delivered', async () => seen.length > 0 && (await settled()), 60_000);
      const start = seen.length;
      const secret = randomBytes(16);
      await encrypt(app, secret);
      await app.call.GenerateRandom({ numberOfBytes: 8 });
      await grpcCode(app.call.Encrypt({ keyAlias: 'missing', plaintext: Buffer.from('x') }));
      await waitFor('3 new records', async () => seen.length >= start + 3 && (await settled()));
      // Records are keyed by alias, so they may arrive from different partitions in any order.
      expect(seen.slice(start).map((r) => `${r.operation}:${r.outcome}`).sort()).toEqual(['encrypt:NOT_FOUND', 'encrypt:ok', 'generate-random:ok']);
      expect(raw.join('\n')).not.toContain(secret.toString('base64'));
      // The gateway sends records uncompressed; the broker compresses the topic's log.
      const admin = kafka.admin();
      await admin.connect();
      const described = await admin
        .describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: `${prefix}${Topics.CryptoOps}`, configNames: ['compression.type'] }] })
        .finally(() => admin.disconnect());
      expect(described.resources[0]?.configEntries.map((e) => [e.configName, e.configValue])).toEqual([['compression.type', 'gzip']]);
      for (const r of seen) earlier.add(r.id);
    } finally {
      await before.stop();
    }

    execFileSync('bash', [kafkaScript, 'stop'], { stdio: 'ignore' });
    try {
      // Operations go on while Kafka is away: their records wait in the spool.
      const results = await Promise.all(Array.from({ length: 25 }, () => encrypt(app)));
      expect(results).toHaveLength(25);
    } finally {
      execFileSync('bash', [kafkaScript, 'start'], { stdio: 'ignore' });
    }

    const after = await reader();
    try {
      const spooled = () => new Set(after.seen.filter((r) => !earlier.has(r.id) && r.operation === 'encrypt' && r.outcome === 'ok').map((r) => r.id)).size;
      await waitFor('the 25 spooled records', () => Promise.resolve(spooled() >= 25), 120_000);
      await after.settled();
      expect(spooled()).toBe(25);
    } finally {
      await after.stop();
    }
  }, 180_000);
});

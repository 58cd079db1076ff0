// npm run bench:gateway — the crypto gateway under load, beside the same operations called
// straight through pkcs11js in this process (the baseline, measured in the same run).
// Results: $BENCH_OUT/gateway.json and gateway.md.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { createGatewayClient, devIdentity, type GatewayClient } from '@keyfleet/crypto-client';
import { createGatewayEstate } from '../testing/gateway-estate.test-kit';
import { DirectPkcs11, type DirectOperation } from './direct-pkcs11.bench';
import { closedLoop, openLoop, type LoadResult } from './load-generator.bench';

const root = resolve(__dirname, '../../../..');
const CONCURRENCY = 64;
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const CHANNELS = 4;

interface OperationResult {
  readonly operation: string;
  readonly baseline: LoadResult;
  readonly gateway: LoadResult;
  readonly ratio: number;
  readonly atSeventyPercent: LoadResult;
  readonly batch?: LoadResult & { readonly itemsPerSecond: number; readonly ratio: number };
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((ok) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => ok(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

async function clusterState(url: string, id: string): Promise<string> {
  const body = (await (await fetch(`${url}/gateway/status`)).json()) as { clusters: { clusterId: string; breaker: string }[] };
  return body.clusters.find((c) => c.clusterId === id)?.breaker ?? 'unknown';
}

async function main(): Promise<void> {
  const out = process.env['BENCH_OUT'] ?? join(root, '.cache/bench');
  mkdirSync(out, { recursive: true });
  const estate = await createGatewayEstate('bench', ['bench-a', 'bench-b'], [100, 0], CONCURRENCY);
  const pki = join(estate.dir, 'pki');
  execFileSync('bash', [join(root, 'tools/pki/dev-pki.sh'), pki], { stdio: 'ignore' });
  const policyFile = join(estate.dir, 'policy.json');
  const operations = ['encrypt', 'decrypt', 'generate-data-key', 'generate-data-key-without-plaintext', 'sign', 'verify', 'generate-mac', 'verify-mac', 'get-public-key', 'generate-random'];
  writeFileSync(
    policyFile,
    JSON.stringify({ callers: { 'spiffe://keyfleet.local/app/app-demo': { keys: ['*'], operations } }, admin: ['spiffe://keyfleet.local/service/key-service'] }),
  );
  const [grpcPort, httpPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${httpPort}`;
  // BENCH_GATEWAY_NODE_ARGS: extra node flags for the gateway process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = (process.env['BENCH_GATEWAY_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const gateway: ChildProcess = spawn(process.execPath, [...nodeArgs, join(root, 'dist/apps/crypto-gateway/src/main.js')], {
    env: {
      PATH: process.env['PATH'],
      SOFTHSM2_CONF: process.env['SOFTHSM2_CONF'],
      LOG_LEVEL: 'warn',
      HTTP_PORT: String(httpPort),
      KAFKA_BROKERS: process.env['KAFKA_BROKERS'],
      KAFKA_TOPIC_PREFIX: `bench-${randomBytes(3).toString('hex')}.`,
      GATEWAY_GRPC_PORT: String(grpcPort),
      GATEWAY_TLS_DIR: pki,
      GATEWAY_POLICY_FILE: policyFile,
      GATEWAY_CLUSTERS_FILE: estate.clustersFile,
      SECRETS_ENDPOINT: process.env['CLOUDHSM_LOCAL_ENDPOINT'],
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      GATEWAY_STATE_DIR: join(estate.dir, 'state'),
      GATEWAY_BREAKER_VOLUME: '20',
      GATEWAY_BREAKER_WINDOW_MS: '5000',
      GATEWAY_BREAKER_RESET_MS: '2000',
      GATEWAY_FAULTS: 'on',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const direct = new DirectPkcs11(process.env['PKCS11_MODULE'] ?? '/usr/lib/softhsm/libsofthsm2.so', estate.clusters[0]?.tokenLabel ?? '', estate.pin('bench-a'), CONCURRENCY);
  const clients: GatewayClient<'Crypto'>[] = [];
  try {
    for (let i = 0; ; i += 1) {
      if ((await fetch(`${url}/health`).then((r) => r.ok).catch(() => false)) === true) break;
      if (i > 300) throw new Error('the gateway did not become healthy');
      await new Promise((r) => setTimeout(r, 200));
    }
    for (let i = 0; i < CHANNELS; i += 1) {
      // Distinct channel options give distinct HTTP/2 connections.
      clients.push(createGatewayClient('Crypto', { address: `127.0.0.1:${grpcPort}`, ...devIdentity(pki, 'app-demo'), channelOptions: { 'grpc.channel_id': i } }));
    }
    const on = (w: number) => clients[w % CHANNELS] as GatewayClient<'Crypto'>;
    const kib = randomBytes(1024);
    const sealed = (await on(0).call.Encrypt({ keyAlias: 'orders', plaintext: kib }))['ciphertext'] as Buffer;
    const directSealed = await direct.sealed('orders/v2', kib);
    const cases: { name: string; direct: DirectOperation; input: { label: string; data: Buffer; iv?: Buffer }; call: (w: number) => Promise<unknown> }[] = [
      { name: 'AES-256-GCM encrypt 1 KiB', direct: 'encrypt', input: { label: 'orders/v2', data: kib }, call: (w) => on(w).call.Encrypt({ keyAlias: 'orders', plaintext: kib }) },
      { name: 'AES-256-GCM decrypt 1 KiB', direct: 'decrypt', input: { label: 'orders/v2', data: directSealed.ciphertext, iv: directSealed.iv }, call: (w) => on(w).call.Decrypt({ ciphertext: sealed }) },
      { name: 'ECDSA P-256 sign', direct: 'sign-ecdsa', input: { label: 'receipts/v1', data: kib }, call: (w) => on(w).call.Sign({ keyAlias: 'receipts', message: kib, signingAlgorithm: 'ECDSA_SHA_256' }) },
      { name: 'RSA-2048 PSS sign', direct: 'sign-rsa-pss', input: { label: 'statements/v1', data: kib }, call: (w) => on(w).call.Sign({ keyAlias: 'statements', message: kib, signingAlgorithm: 'RSASSA_PSS_SHA_256' }) },
      { name: 'HMAC-SHA256', direct: 'hmac', input: { label: 'sessions/v1', data: kib }, call: (w) => on(w).call.GenerateMac({ keyAlias: 'sessions', message: kib, macAlgorithm: 'HMAC_SHA_256' }) },
    ];
    const loginsBefore = await metric(url, 'keyfleet_gateway_pkcs11_logins');
    const searchesBefore = await metric(url, 'keyfleet_gateway_pkcs11_object_searches');
    let gatewayOps = 0;
    const results: OperationResult[] = [];
    // BENCH_ONLY: a substring of the operation names to run (profiling); resilience runs only without it.
    const only = process.env['BENCH_ONLY'];
    for (const c of cases.filter((x) => !only || x.name.includes(only))) {
      process.stdout.write(`[bench] ${c.name}: baseline... `);
      const baseline = await closedLoop(CONCURRENCY, SECONDS, (w) => direct.run(w, c.direct, c.input));
      process.stdout.write(`${baseline.opsPerSecond.toFixed(0)}/s; gateway... `);
      const gw = await closedLoop(CONCURRENCY, SECONDS, c.call);
      process.stdout.write(`${gw.opsPerSecond.toFixed(0)}/s; 70% load... `);
      const seventy = await openLoop(gw.opsPerSecond * 0.7, SECONDS, () => c.call(Math.floor(Math.random() * CHANNELS)));
      gatewayOps += gw.ops + seventy.ops;
      let batch: OperationResult['batch'];
      if (c.direct === 'encrypt') {
        const items = Array.from({ length: 32 }, () => ({ keyAlias: 'orders', plaintext: kib }));
        const run = await closedLoop(CONCURRENCY / 8, SECONDS, (w) => on(w).call.EncryptBatch({ items }));
        batch = { ...run, itemsPerSecond: run.opsPerSecond * 32, ratio: (run.opsPerSecond * 32) / baseline.opsPerSecond };
        gatewayOps += run.ops * 32;
      }
      console.log(`p99 ${seventy.p99Ms.toFixed(2)} ms${batch ? `; batch ${batch.itemsPerSecond.toFixed(0)} items/s` : ''}`);
      results.push({ operation: c.name, baseline, gateway: gw, ratio: gw.opsPerSecond / baseline.opsPerSecond, atSeventyPercent: seventy, ...(batch ? { batch } : {}) });
    }
    const logins = (await metric(url, 'keyfleet_gateway_pkcs11_logins')) - loginsBefore;
    const searches = (await metric(url, 'keyfleet_gateway_pkcs11_object_searches')) - searchesBefore;

    if (only) return;
    // Resilience: two clusters holding the key, 50/50; 20% injected errors on one under constant load.
    const admin = createGatewayClient('HsmAdmin', { address: `127.0.0.1:${grpcPort}`, ...devIdentity(pki, 'key-service') });
    await admin.call.SetRoutingWeights({ ring: 'main', weights: { 'bench-a': 50, 'bench-b': 50 } });
    const started = performance.now();
    const events: { openedAfterMs?: number; closedAfterRecoveryMs?: number } = {};
    let faultEnd = 0;
    const watcher = (async () => {
      await new Promise((r) => setTimeout(r, 2000));
      const faultStart = performance.now();
      await fetch(`${url}/gateway/test/faults/bench-b`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errorRate: 0.2 }) });
      while (performance.now() - faultStart < 8000) {
        if (events.openedAfterMs === undefined && (await clusterState(url, 'bench-b')) === 'open') events.openedAfterMs = performance.now() - faultStart;
        await new Promise((r) => setTimeout(r, 20));
      }
      await fetch(`${url}/gateway/test/faults/bench-b`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
      faultEnd = performance.now();
      while (performance.now() - faultEnd < 15000) {
        if ((await clusterState(url, 'bench-b')) === 'closed') {
          events.closedAfterRecoveryMs = performance.now() - faultEnd;
          break;
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const resilienceLoad = await closedLoop(32, 20, (w) => on(w).call.Encrypt({ keyAlias: 'orders', plaintext: kib }), 0);
    await watcher;
    admin.close();
    const resilience = {
      requests: resilienceLoad.ops + resilienceLoad.errors,
      clientErrors: resilienceLoad.errors,
      clientErrorRate: resilienceLoad.errors / (resilienceLoad.ops + resilienceLoad.errors),
      breakerOpenedAfterMs: events.openedAfterMs ?? null,
      breakerClosedAfterRecoveryMs: events.closedAfterRecoveryMs ?? null,
      seconds: (performance.now() - started) / 1000,
    };
    const report = {
      when: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
      concurrency: CONCURRENCY,
      secondsPerRun: SECONDS,
      hsm: 'SoftHSM2 (Debian), one token per cluster',
      results,
      perHundredThousand: { logins: (logins * 100_000) / gatewayOps, objectSearches: (searches * 100_000) / gatewayOps, gatewayOps, totalLogins: logins, totalObjectSearches: searches },
      resilience,
    };
    writeFileSync(join(out, 'gateway.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(out, 'gateway.md'), markdown(report));
    console.log(markdown(report));
  } finally {
    for (const c of clients) c.close();
    direct.close();
    gateway.kill('SIGTERM');
    await new Promise((r) => gateway.once('exit', r));
    estate.remove();
  }
}

function markdown(r: {
  when: string;
  machine: { cpus: number; model: string; node: string };
  results: OperationResult[];
  perHundredThousand: { logins: number; objectSearches: number; gatewayOps: number };
  resilience: { requests: number; clientErrors: number; clientErrorRate: number; breakerOpenedAfterMs: number | null; breakerClosedAfterRecoveryMs: number | null };
}): string {
  const f = (n: number, d = 0) => n.toFixed(d);
  const lines = [
    `# crypto-gateway benchmark (${r.when})`,
    '',
    `${r.machine.cpus} CPUs (${r.machine.model}), Node ${r.machine.node}; ${CONCURRENCY} concurrent callers, ${SECONDS} s per run; SoftHSM2.`,
    'Baseline: the same operation straight through pkcs11js in one process, one session per caller.',
    '',
    '| operation | baseline ops/s | gateway ops/s | ratio | gateway p50 / p99 ms (peak) | p99 ms at 70% of peak | batch items/s (ratio) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.results.map(
      (x) =>
        `| ${x.operation} | ${f(x.baseline.opsPerSecond)} | ${f(x.gateway.opsPerSecond)} | ${f(x.ratio, 2)} | ${f(x.gateway.p50Ms, 2)} / ${f(x.gateway.p99Ms, 2)} | ${f(x.atSeventyPercent.p99Ms, 2)} | ${x.batch ? `${f(x.batch.itemsPerSecond)} (${f(x.batch.ratio, 2)})` : '-'} |`,
    ),
    '',
    `Per 100,000 gateway operations: ${f(r.perHundredThousand.logins, 2)} logins, ${f(r.perHundredThousand.objectSearches, 2)} object searches (${r.perHundredThousand.gatewayOps} operations).`,
    '',
    `Resilience (2 clusters 50/50, 20% injected errors on one for 8 s, 32 callers): ${r.resilience.clientErrors} client-visible errors of ${r.resilience.requests} (${f(r.resilience.clientErrorRate * 100, 3)}%); breaker opened after ${r.resilience.breakerOpenedAfterMs === null ? 'never' : `${f(r.resilience.breakerOpenedAfterMs)} ms`}; closed ${r.resilience.breakerClosedAfterRecoveryMs === null ? 'not within 15 s' : `${f(r.resilience.breakerClosedAfterRecoveryMs)} ms`} after the fault ended.`,
    '',
  ];
  return lines.join('\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

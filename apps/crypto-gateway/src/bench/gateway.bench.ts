// npm run bench:gateway — the crypto gateway under load from ghz (a gRPC load generator in
// Go), beside the same operations called straight through pkcs11js in this process (the
// baseline, measured in the same run). Results: $BENCH_OUT/gateway.json and gateway.md.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { createGatewayClient, devIdentity, type GatewayClient } from '@keyfleet/crypto-client';
import { freePort, startService, TestingException, TestingExceptionCode, type ServiceProcess } from '@keyfleet/testing';
import { createGatewayEstate } from '../testing/gateway-estate.test-kit';
import { envPairs, gatewayEnv } from '../testing/gateway-process.test-kit';
import { cpuShares, cpuSnapshot, type CpuShares } from './cpu-usage.bench';
import { DirectPkcs11, type DirectOperation } from './direct-pkcs11.bench';
import { SPLIT_CPUS, onCpuZero, otherCpus, splitGatewayThreads } from './cpu-placement.bench';
import { GHZ_BATCH_SCHEDULED, ghz, type GhzResult, type GhzRun, type GhzTarget } from './ghz.bench';
import { startCeilingServer } from './grpc-ceiling.bench';
import { closedLoop, type LoadResult } from './load-generator.bench';

const root = resolve(__dirname, '../../../..');
const CONCURRENCY = 64;
const OFFLOAD_VARIABLES = ['GATEWAY_PKCS11_WORKERS', 'GATEWAY_PKCS11_WORKER_CALLS'];
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const WARMUP_SECONDS = 1;
/** HTTP/2 connections ghz spreads its workers over. */
const CONNECTIONS = 4;
/** Items per batch request. */
const BATCH_ITEMS = 32;
const GHZ_VERSION = 'v0.120.0';
/** Shares of each operation's peak at which p99 is measured besides 70%. */
const CURVE_SHARES = [0.1, 0.3, 0.5] as const;

const GENERATORS = {
  baseline: 'in-process Node closed loop over pkcs11js (apps/crypto-gateway/src/bench/load-generator.bench.ts)',
  gateway: `ghz ${GHZ_VERSION} over gRPC/mTLS: closed loop (-c), open loop at 70% (--rps --async), batches, resilience`,
  ceiling: `ghz ${GHZ_VERSION} against a grpc-js server in the benchmark process that answers Encrypt at once (apps/crypto-gateway/src/bench/grpc-ceiling.bench.ts)`,
} as const;

/**
 * A run's figures, where the CPU went meanwhile, and how busy the gateway's JavaScript main
 * thread and its PKCS#11 worker threads were (share of the run's time their event loops were
 * active; the workers' averaged over them, null without workers; both absent for runs that do
 * not use the gateway).
 */
type Measured<T> = T & {
  readonly cpu: CpuShares;
  readonly mainThreadBusy?: number;
  readonly pkcs11WorkersBusy?: number | null;
  /** Messages of jobs to the PKCS#11 worker threads per second, jobs in each, and messages of results back per message of jobs. */
  readonly pkcs11Messages?: { readonly perSecond: number; readonly jobsPerMessage: number; readonly repliesPerMessage: number };
};

interface OperationResult {
  readonly operation: string;
  /** The baseline run before the gateway's runs of this operation (its CPU figures are the report's). */
  readonly baseline: Measured<LoadResult>;
  /** The same baseline again after them: with `baseline`, it shows how much the machine drifted meanwhile. */
  readonly baselineAfter: Measured<LoadResult>;
  /** The mean of the two baseline runs: what the ratios divide by. */
  readonly baselineOpsPerSecond: number;
  readonly gateway: Measured<GhzResult>;
  readonly ratio: number;
  readonly atSeventyPercent: Measured<GhzResult>;
  /** Open-loop runs at lower shares of the peak: where p99 stays under the 10 ms aim. */
  readonly latencyCurve: readonly (GhzResult & { readonly shareOfPeak: number })[];
  readonly batch?: Measured<GhzResult> & { readonly itemsPerSecond: number; readonly ratio: number };
}

async function metric(url: string, name: string): Promise<number> {
  return sumOf(await (await fetch(`${url}/metrics`)).text(), name);
}

/** The sum of a metric's series in a Prometheus text exposition (every series carries the service label). */
function sumOf(exposition: string, name: string): number {
  return exposition
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`))
    .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
}

async function clusterState(url: string, id: string): Promise<string> {
  const body = (await (await fetch(`${url}/gateway/status`)).json()) as { clusters: { clusterId: string; breaker: string }[] };
  return body.clusters.find((c) => c.clusterId === id)?.breaker ?? 'unknown';
}

/**
 * Starts the gateway on two free ports and waits until it is healthy. A port found free can be
 * taken before the gateway binds it (another process's outgoing connection: they share the
 * ephemeral range), so a gateway that exits during start-up is started again on new ports.
 */
async function launchGateway(start: (grpcPort: number, httpPort: number) => Promise<ServiceProcess>): Promise<{ gateway: ServiceProcess; grpcPort: number }> {
  for (let attempt = 1; ; attempt += 1) {
    const grpcPort = await freePort();
    try {
      return { gateway: await start(grpcPort, await freePort()), grpcPort };
    } catch (err) {
      if (!(err instanceof TestingException && err.code === TestingExceptionCode.ExitedDuringStartup) || attempt === 3) throw err;
      console.log(`[bench] the gateway exited during start-up (attempt ${attempt}); starting it again on other ports`);
    }
  }
}

async function main(): Promise<void> {
  const ghzBinary = process.env['BENCH_GHZ'];
  if (!ghzBinary) throw new Error('BENCH_GHZ (the ghz binary) is not set: run through "npm run bench:gateway"');
  // Other work on the machine skews every figure: recorded, so a run under load can be recognised.
  const loadAverageAtStart = loadavg().map((l) => Number(l.toFixed(2)));
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
  // GATEWAY_NODE_ARGS: the gateway's flags as the platform starts it (tools/platform/node-args.sh, set by
  // tools/bench/gateway.sh); BENCH_GATEWAY_NODE_ARGS: more, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const flags = (name: string) => (process.env[name] ?? '').split(' ').filter(Boolean);
  const nodeArgs = [...flags('GATEWAY_NODE_ARGS'), ...flags('BENCH_GATEWAY_NODE_ARGS')];
  // BENCH_GATEWAY_MAIN: another build of the gateway (a copy of dist/ inside the repository, so that
  // node_modules resolves), to compare two versions back to back on the same machine.
  const gatewayMain = resolve(root, process.env['BENCH_GATEWAY_MAIN'] ?? 'dist/apps/crypto-gateway/src/main.js');
  // GATEWAY_PKCS11_WORKERS / GATEWAY_PKCS11_WORKER_CALLS, when set, reach the gateway (to compare its PKCS#11 threading).
  const offloadEnv = Object.fromEntries(OFFLOAD_VARIABLES.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
  // BENCH_GATEWAY_ENV: more variables for the gateway alone, "NAME=value NAME=value" (e.g. an
  // allocator through LD_PRELOAD, or GLIBC_TUNABLES), so the baseline in this process is not changed.
  const extraEnv = envPairs(flags('BENCH_GATEWAY_ENV'), 'BENCH_GATEWAY_ENV');
  // GATEWAY_PRELOAD: the allocator the gateway ships with (tools/platform/node-args.sh, set by
  // tools/bench/gateway.sh, which preloads it into this process too, for the baseline).
  const allocator = { gateway: process.env['GATEWAY_PRELOAD'] || 'glibc malloc', baseline: process.env['LD_PRELOAD'] || 'glibc malloc' };
  const preloadEnv = process.env['GATEWAY_PRELOAD'] ? { LD_PRELOAD: process.env['GATEWAY_PRELOAD'] } : {};
  const { gateway, grpcPort } = await launchGateway((port, httpPort) =>
    startService({
      entry: gatewayMain,
      nodeArgs,
      port: httpPort,
      env: gatewayEnv(
        { dir: estate.dir, clustersFile: estate.clustersFile, pki, policyFile, grpcPort: port, topicPrefix: `bench-${randomBytes(3).toString('hex')}.` },
        { GATEWAY_BREAKER_VOLUME: '20', GATEWAY_BREAKER_WINDOW_MS: '5000', GATEWAY_BREAKER_RESET_MS: '2000', GATEWAY_FAULTS: 'on', ...preloadEnv, ...offloadEnv, ...extraEnv },
      ),
    }),
  ).catch((err: unknown) => {
    estate.remove();
    throw err;
  });
  const { url } = gateway;
  // BENCH_CPUS=split: the gateway's main thread alone on CPU 0 (its worker threads are up once it is healthy).
  if (SPLIT_CPUS) splitGatewayThreads(gateway.pid);
  const direct = new DirectPkcs11(process.env['PKCS11_MODULE'] ?? '/usr/lib/softhsm/libsofthsm2.so', estate.clusters[0]?.tokenLabel ?? '', estate.pin('bench-a'), CONCURRENCY);
  const target: GhzTarget = {
    binary: ghzBinary,
    address: `127.0.0.1:${grpcPort}`,
    protoDir: join(root, 'libs/contracts/src/proto'),
    protoFile: 'keyfleet/crypto/v1/crypto.proto',
    ...devIdentity(pki, 'app-demo'),
  };
  // Not a load generator: one call to make the decrypt input, one to change the weights.
  let client: GatewayClient<'Crypto'> | undefined;
  try {
    // The server certificate names localhost too; TLS SNI takes no IP address.
    client = createGatewayClient('Crypto', { address: target.address, ...devIdentity(pki, 'app-demo'), channelOptions: { 'grpc.ssl_target_name_override': 'localhost' } });
    const kib = randomBytes(1024);
    const b64 = kib.toString('base64');
    const sealed = (await client.call.Encrypt({ keyAlias: 'orders', plaintext: kib }))['ciphertext'] as Buffer;
    const directSealed = await direct.sealed('orders/v2', kib);
    const encrypt = { keyAlias: 'orders', plaintext: b64 };
    const decrypt = { ciphertext: sealed.toString('base64') };
    const ecdsa = { keyAlias: 'receipts', message: b64, signingAlgorithm: 'ECDSA_SHA_256' };
    const pss = { keyAlias: 'statements', message: b64, signingAlgorithm: 'RSASSA_PSS_SHA_256' };
    // `batch`: the batch RPC of the operation, if there is one (HMAC has none).
    const cases: { name: string; direct: DirectOperation; input: { label: string; data: Buffer; iv?: Buffer }; method: string; data: object; batch?: string }[] = [
      { name: 'AES-256-GCM encrypt 1 KiB', direct: 'encrypt', input: { label: 'orders/v2', data: kib }, method: 'Crypto/Encrypt', data: encrypt, batch: 'Crypto/EncryptBatch' },
      { name: 'AES-256-GCM decrypt 1 KiB', direct: 'decrypt', input: { label: 'orders/v2', data: directSealed.ciphertext, iv: directSealed.iv }, method: 'Crypto/Decrypt', data: decrypt, batch: 'Crypto/DecryptBatch' },
      { name: 'ECDSA P-256 sign', direct: 'sign-ecdsa', input: { label: 'receipts/v1', data: kib }, method: 'Crypto/Sign', data: ecdsa, batch: 'Crypto/SignBatch' },
      { name: 'RSA-2048 PSS sign', direct: 'sign-rsa-pss', input: { label: 'statements/v1', data: kib }, method: 'Crypto/Sign', data: pss, batch: 'Crypto/SignBatch' },
      { name: 'HMAC-SHA256', direct: 'hmac', input: { label: 'sessions/v1', data: kib }, method: 'Crypto/GenerateMac', data: { keyAlias: 'sessions', message: b64, macAlgorithm: 'HMAC_SHA_256' } },
    ];
    const workers = await metric(url, 'keyfleet_gateway_pkcs11_workers');
    const gatewayCounters = async () => {
      const exposition = await (await fetch(`${url}/metrics`)).text();
      return {
        main: sumOf(exposition, 'keyfleet_gateway_event_loop_busy_seconds'),
        workers: sumOf(exposition, 'keyfleet_gateway_pkcs11_worker_busy_seconds'),
        jobs: sumOf(exposition, 'keyfleet_gateway_pkcs11_worker_jobs'),
        messages: sumOf(exposition, 'keyfleet_gateway_pkcs11_worker_messages'),
        replies: sumOf(exposition, 'keyfleet_gateway_pkcs11_worker_replies'),
      };
    };
    const withCpu = async <T extends object>(run: () => Promise<T>): Promise<Measured<T>> => {
      const countersBefore = await gatewayCounters();
      const started = performance.now();
      const before = cpuSnapshot(gateway.pid);
      const result = await run();
      const cpu = cpuShares(before, cpuSnapshot(gateway.pid));
      const seconds = (performance.now() - started) / 1000;
      const countersAfter = await gatewayCounters();
      const share = (busy: number) => Number((busy / seconds).toFixed(2));
      const messages = countersAfter.messages - countersBefore.messages;
      const ratioOf = (n: number, d: number) => Number((n / d).toFixed(2));
      return {
        ...result,
        cpu,
        mainThreadBusy: share(countersAfter.main - countersBefore.main),
        pkcs11WorkersBusy: workers > 0 ? share((countersAfter.workers - countersBefore.workers) / workers) : null,
        ...(messages > 0 ? { pkcs11Messages: { perSecond: Math.round(messages / seconds), jobsPerMessage: ratioOf(countersAfter.jobs - countersBefore.jobs, messages), repliesPerMessage: ratioOf(countersAfter.replies - countersBefore.replies, messages) } } : {}),
      };
    };
    const loginsBefore = await metric(url, 'keyfleet_gateway_pkcs11_logins');
    const searchesBefore = await metric(url, 'keyfleet_gateway_pkcs11_object_searches');
    // Gateway operations since the counters were read, warm-up runs included (items for batches).
    let gatewayOps = 0;
    /** A warm-up run first (connections, JIT, handle caches), then the measured one. */
    const measured = async (run: Omit<GhzRun, 'seconds' | 'connections'>, items = 1): Promise<Measured<GhzResult>> => {
      gatewayOps += (await ghz(target, { ...run, connections: CONNECTIONS, seconds: WARMUP_SECONDS })).ops * items;
      return withCpu(() => ghz(target, { ...run, connections: CONNECTIONS, seconds: SECONDS }));
    };
    const results: OperationResult[] = [];
    // BENCH_ONLY: a substring of the operation names to run (profiling); resilience runs only without it.
    const only = process.env['BENCH_ONLY'];
    for (const c of cases.filter((x) => !only || x.name.includes(only))) {
      process.stdout.write(`[bench] ${c.name}: baseline... `);
      // The baseline brackets the gateway's runs (before and after them) and the ratios use the mean of
      // the two: on a shared VM the machine's speed drifts by tens of per cent within minutes.
      const baselineRun = () => withCpu(() => closedLoop(CONCURRENCY, SECONDS, (w) => direct.run(w, c.direct, c.input), WARMUP_SECONDS));
      const baseline = await baselineRun();
      process.stdout.write(`${baseline.opsPerSecond.toFixed(0)}/s; gateway (ghz)... `);
      const gw = await measured({ method: c.method, data: c.data, concurrency: CONCURRENCY });
      process.stdout.write(`${gw.opsPerSecond.toFixed(0)}/s (${gw.errors} errors); 70% load... `);
      const seventy = await withCpu(() => ghz(target, { method: c.method, data: c.data, concurrency: CONCURRENCY, connections: CONNECTIONS, seconds: SECONDS, rps: gw.opsPerSecond * 0.7 }));
      gatewayOps += gw.ops + seventy.ops;
      const latencyCurve: OperationResult['latencyCurve'][number][] = [];
      for (const shareOfPeak of CURVE_SHARES) {
        const run = await ghz(target, { method: c.method, data: c.data, concurrency: CONCURRENCY, connections: CONNECTIONS, seconds: SECONDS, rps: gw.opsPerSecond * shareOfPeak });
        latencyCurve.push({ ...run, shareOfPeak });
        gatewayOps += run.ops;
      }
      let batchRun: Measured<GhzResult> | undefined;
      if (c.batch) {
        const items = Array.from({ length: BATCH_ITEMS }, () => c.data);
        batchRun = await measured({ method: c.batch, data: { items }, concurrency: CONCURRENCY / 8 }, BATCH_ITEMS);
        gatewayOps += batchRun.ops * BATCH_ITEMS;
      }
      const baselineAfter = await baselineRun();
      const baselineOpsPerSecond = (baseline.opsPerSecond + baselineAfter.opsPerSecond) / 2;
      const batch = batchRun && { ...batchRun, itemsPerSecond: batchRun.opsPerSecond * BATCH_ITEMS, ratio: (batchRun.opsPerSecond * BATCH_ITEMS) / baselineOpsPerSecond };
      console.log(
        `p99 ${seventy.p99Ms.toFixed(2)} ms (${seventy.opsPerSecond.toFixed(0)}/s)${batch ? `; batch ${batch.itemsPerSecond.toFixed(0)} items/s` : ''}; baseline again ${baselineAfter.opsPerSecond.toFixed(0)}/s`,
      );
      results.push({
        operation: c.name,
        baseline,
        baselineAfter,
        baselineOpsPerSecond,
        gateway: gw,
        ratio: gw.opsPerSecond / baselineOpsPerSecond,
        atSeventyPercent: seventy,
        latencyCurve,
        ...(batch ? { batch } : {}),
      });
    }
    const logins = (await metric(url, 'keyfleet_gateway_pkcs11_logins')) - loginsBefore;
    const searches = (await metric(url, 'keyfleet_gateway_pkcs11_object_searches')) - searchesBefore;

    // What grpc-js and ghz alone do here (unary Encrypt answered at once), with the same settings.
    process.stdout.write('[bench] gRPC ceiling (grpc-js echo server, ghz)... ');
    const echo = await startCeilingServer(pki);
    let ceiling!: Measured<GhzResult>;
    const ceilingCurve: Measured<GhzResult & { shareOfPeak: number }>[] = [];
    // Under BENCH_CPUS=split the echo server's thread (this process's main thread) gets CPU 0, as the gateway's does.
    const placed = <T>(work: () => Promise<T>) => (SPLIT_CPUS ? onCpuZero(work) : work());
    try {
      await placed(async () => {
      const echoTarget = { ...target, address: echo.address };
      await ghz(echoTarget, { method: 'Crypto/Encrypt', data: encrypt, concurrency: CONCURRENCY, connections: CONNECTIONS, seconds: WARMUP_SECONDS });
      const before = cpuSnapshot(gateway.pid);
      const run = await ghz(echoTarget, { method: 'Crypto/Encrypt', data: encrypt, concurrency: CONCURRENCY, connections: CONNECTIONS, seconds: SECONDS });
      ceiling = { ...run, cpu: cpuShares(before, cpuSnapshot(gateway.pid)) };
      // The same open loops as the gateway's latency runs: what p99 this machine allows at those loads with no work behind the call.
      for (const shareOfPeak of [...CURVE_SHARES, 0.7]) {
        const curveStart = cpuSnapshot(gateway.pid);
        const curveRun = await ghz(echoTarget, { method: 'Crypto/Encrypt', data: encrypt, concurrency: CONCURRENCY, connections: CONNECTIONS, seconds: SECONDS, rps: run.opsPerSecond * shareOfPeak });
        ceilingCurve.push({ ...curveRun, shareOfPeak, cpu: cpuShares(curveStart, cpuSnapshot(gateway.pid)) });
      }
      });
    } finally {
      await echo.close();
    }
    console.log(`${ceiling.opsPerSecond.toFixed(0)}/s; p99 ${ceilingCurve.map((p) => `${p.p99Ms.toFixed(2)} ms at ${(p.shareOfPeak * 100).toFixed(0)}%`).join(', ')}`);

    // Resilience only in full runs; a BENCH_ONLY run writes gateway-only.{json,md}, leaving the full report alone.
    const resilience = only ? undefined : await resilienceRun(target, url, pki, encrypt);
    const report = {
      when: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverageAtStart },
      gateway: gatewayMain,
      gatewaySettings: { ...offloadEnv, ...extraEnv },
      gatewayNodeArgs: nodeArgs,
      allocator,
      ghzBatchScheduled: GHZ_BATCH_SCHEDULED,
      cpuPlacement: SPLIT_CPUS ? `split: gateway main thread and echo server on CPU 0; the gateway's other threads and ghz on CPUs ${otherCpus()}` : 'shared',
      concurrency: CONCURRENCY,
      secondsPerRun: SECONDS,
      hsm: 'SoftHSM2 (Debian), one token per cluster',
      generators: GENERATORS,
      results,
      grpcCeiling: ceiling,
      grpcCeilingCurve: ceilingCurve,
      unaryBounds: results.map((x) => ({ operation: x.operation, ...unaryBound(x.baseline, x.baselineOpsPerSecond, ceiling, cpus().length) })),
      perHundredThousand: { logins: (logins * 100_000) / gatewayOps, objectSearches: (searches * 100_000) / gatewayOps, gatewayOps, totalLogins: logins, totalObjectSearches: searches },
      ...(resilience ? { resilience } : {}),
    };
    const name = only ? 'gateway-only' : 'gateway';
    writeFileSync(join(out, `${name}.json`), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(out, `${name}.md`), markdown(report));
    console.log(markdown(report));
  } finally {
    client?.close();
    direct.close();
    await gateway.stop();
    // What the gateway logged (warnings and errors) during the run.
    writeFileSync(join(out, 'gateway-process.log'), gateway.output());
    estate.remove();
  }
}

/** Two clusters holding the key, 50/50; 20% injected errors on one for 8 s under constant load from ghz. */
async function resilienceRun(target: GhzTarget, url: string, pki: string, encrypt: object) {
  const admin = createGatewayClient('HsmAdmin', { address: target.address, ...devIdentity(pki, 'key-service'), channelOptions: { 'grpc.ssl_target_name_override': 'localhost' } });
  await admin.call.SetRoutingWeights({ ring: 'main', weights: { 'bench-a': 50, 'bench-b': 50 } });
  admin.close();
  const started = performance.now();
  const events: { openedAfterMs?: number; closedAfterRecoveryMs?: number } = {};
  const watcher = (async () => {
    await new Promise((r) => setTimeout(r, 2000));
    const faultStart = performance.now();
    await fetch(`${url}/gateway/test/faults/bench-b`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ errorRate: 0.2 }) });
    while (performance.now() - faultStart < 8000) {
      if (events.openedAfterMs === undefined && (await clusterState(url, 'bench-b')) === 'open') events.openedAfterMs = performance.now() - faultStart;
      await new Promise((r) => setTimeout(r, 20));
    }
    await fetch(`${url}/gateway/test/faults/bench-b`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    const faultEnd = performance.now();
    while (performance.now() - faultEnd < 15000) {
      if ((await clusterState(url, 'bench-b')) === 'closed') {
        events.closedAfterRecoveryMs = performance.now() - faultEnd;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  // Every call counts, from the first: ghz's status code distribution is the client-visible error count.
  const resilienceLoad = await ghz(target, { method: 'Crypto/Encrypt', data: encrypt, concurrency: 32, connections: CONNECTIONS, seconds: 20 });
  await watcher;
  return {
    generator: `ghz ${GHZ_VERSION}, 32 workers, status code distribution`,
    requests: resilienceLoad.ops + resilienceLoad.errors,
    clientErrors: resilienceLoad.errors,
    clientErrorRate: resilienceLoad.errors / (resilienceLoad.ops + resilienceLoad.errors),
    statusCodes: resilienceLoad.statusCodes,
    breakerOpenedAfterMs: events.openedAfterMs ?? null,
    breakerClosedAfterRecoveryMs: events.closedAfterRecoveryMs ?? null,
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * The most unary calls/s a gateway that cost nothing beyond a bare grpc-js server could serve
 * here: the echo server's rate, or the machine's CPUs divided by the CPU of one call (the
 * baseline's CPU per operation, which includes its small closed-loop overhead, plus the echo
 * server's and ghz's CPU per call), whichever is lower.
 */
function unaryBound(
  baseline: Measured<LoadResult>,
  baselineOpsPerSecond: number,
  ceiling: Measured<GhzResult>,
  machineCpus: number,
): { opsPerSecond: number; ratio: number; boundBy: 'gRPC ceiling' | 'CPU' } {
  const cpuPerOperation = baseline.cpu.bench / baseline.opsPerSecond + (ceiling.cpu.bench + ceiling.cpu.loadGenerator) / ceiling.opsPerSecond;
  const byCpu = machineCpus / cpuPerOperation;
  const opsPerSecond = Math.min(ceiling.opsPerSecond, byCpu);
  return { opsPerSecond, ratio: opsPerSecond / baselineOpsPerSecond, boundBy: byCpu < ceiling.opsPerSecond ? 'CPU' : 'gRPC ceiling' };
}

function markdown(r: {
  when: string;
  gatewaySettings: Record<string, string | undefined>;
  gatewayNodeArgs: string[];
  allocator: { gateway: string; baseline: string };
  ghzBatchScheduled: boolean;
  cpuPlacement: string;
  machine: { cpus: number; model: string; node: string; loadAverageAtStart: number[] };
  results: OperationResult[];
  grpcCeiling: Measured<GhzResult>;
  grpcCeilingCurve: Measured<GhzResult & { shareOfPeak: number }>[];
  unaryBounds: ({ operation: string } & ReturnType<typeof unaryBound>)[];
  perHundredThousand: { logins: number; objectSearches: number; gatewayOps: number };
  resilience?: { requests: number; clientErrors: number; clientErrorRate: number; breakerOpenedAfterMs: number | null; breakerClosedAfterRecoveryMs: number | null };
}): string {
  const f = (n: number, d = 0) => n.toFixed(d);
  const point = (p: GhzResult) => `${f(p.p99Ms, 2)} (${f(p.p50Ms, 2)}) at ${f(p.opsPerSecond)}/s`;
  const lines = [
    `# crypto-gateway benchmark (${r.when})`,
    '',
    `${r.machine.cpus} CPUs (${r.machine.model}), load average ${r.machine.loadAverageAtStart.join(' ')} at start, Node ${r.machine.node}; ${CONCURRENCY} concurrent callers, ${SECONDS} s per run after ${WARMUP_SECONDS} s of warm-up; SoftHSM2.`,
    `Baseline: the same operation straight through pkcs11js in one process, one session per caller; measured by the ${GENERATORS.baseline}, once before the gateway's runs of the operation and once after them; ratios divide by the mean of the two.`,
    `Gateway: measured by ${GENERATORS.gateway}; ${CONNECTIONS} HTTP/2 connections; settings ${Object.entries(r.gatewaySettings).map(([k, v]) => `${k}=${v}`).join(' ') || 'default'}; node flags ${r.gatewayNodeArgs.join(' ') || 'none'}; allocator ${r.allocator.gateway} (baseline and echo server: ${r.allocator.baseline})${r.ghzBatchScheduled ? '; ghz under SCHED_BATCH (BENCH_GHZ_SCHED=batch)' : ''}${r.cpuPlacement === 'shared' ? '' : `; CPUs ${r.cpuPlacement} (BENCH_CPUS=split)`}.`,
    '',
    '| operation | baseline ops/s (before / after) | gateway ops/s | ratio | gateway p50 / p99 ms (peak) | p99 ms at 70% of peak | batch of 32: items/s (ratio) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.results.map(
      (x) =>
        `| ${x.operation} | ${f(x.baselineOpsPerSecond)} (${f(x.baseline.opsPerSecond)} / ${f(x.baselineAfter.opsPerSecond)}) | ${f(x.gateway.opsPerSecond)} | ${f(x.ratio, 2)} | ${f(x.gateway.p50Ms, 2)} / ${f(x.gateway.p99Ms, 2)} | ${f(x.atSeventyPercent.p99Ms, 2)} | ${x.batch ? `${f(x.batch.itemsPerSecond)} (${f(x.batch.ratio, 2)})` : '-'} |`,
    ),
    '',
    `gRPC ceiling, measured by ${GENERATORS.ceiling}: ${f(r.grpcCeiling.opsPerSecond)} calls/s, p50 / p99 ${f(r.grpcCeiling.p50Ms, 2)} / ${f(r.grpcCeiling.p99Ms, 2)} ms (CPUs: server ${f(r.grpcCeiling.cpu.bench, 2)}, ghz ${f(r.grpcCeiling.cpu.loadGenerator, 2)}, idle ${f(r.grpcCeiling.cpu.idle, 2)}). No unary figure of the gateway can pass it, nor what the machine's CPUs allow when each call costs what the baseline spends on the operation plus what the echo server and ghz spend on a call: the most a gateway that added nothing to grpc-js could reach here, as calls/s (ratio to the baseline): ${r.unaryBounds.map((x) => `${x.operation} ${f(x.opsPerSecond)} (${f(x.ratio, 2)}, bound by ${x.boundBy})`).join('; ')}.`,
    `p99 in ms (p50 in brackets) in open-loop runs (ghz --rps --async) at shares of each one's peak: the gateway's operations, and the gRPC ceiling's server, whose figures are what this machine allows at those loads with no work behind the call.`,
    '',
    `| operation | ${CURVE_SHARES.map((s) => `${f(s * 100)}%`).join(' | ')} | 70% |`,
    `| --- | ${CURVE_SHARES.map(() => '---:').join(' | ')} | ---: |`,
    ...r.results.map(
      (x) => `| ${x.operation} | ${[...x.latencyCurve, x.atSeventyPercent].map(point).join(' | ')} |`,
    ),
    `| gRPC ceiling (echo server) | ${r.grpcCeilingCurve.map(point).join(' | ')} |`,
    '',
    'CPUs used on average (1 = one core) during the baseline run (the benchmark process; everything else) and during the gateway peak run and batch run: the gateway, its JavaScript main thread in brackets; ghz; everything else, such as Kafka taking the audit records or other work on the machine; idle; taken by the hypervisor. "Busy": the share of the run its event loop was active, for the main thread and for each PKCS#11 worker thread (main thread busy but using less CPU: it waited for a CPU).',
    '',
    '| operation | baseline: process | other | gateway peak: gateway (main thread) | busy: main / workers | ghz | other | idle | steal | batch: gateway (main thread) | busy: main / workers | idle |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.results.map((x) => {
      const busy = (m: Measured<object>) => `${m.mainThreadBusy === undefined ? '-' : f(m.mainThreadBusy, 2)} / ${m.pkcs11WorkersBusy === null || m.pkcs11WorkersBusy === undefined ? '-' : f(m.pkcs11WorkersBusy, 2)}`;
      const batch = x.batch ? `${f(x.batch.cpu.gateway, 2)} (${f(x.batch.cpu.gatewayMainThread, 2)}) | ${busy(x.batch)} | ${f(x.batch.cpu.idle, 2)}` : '- | - | -';
      return `| ${x.operation} | ${f(x.baseline.cpu.bench, 2)} | ${f(x.baseline.cpu.other, 2)} | ${f(x.gateway.cpu.gateway, 2)} (${f(x.gateway.cpu.gatewayMainThread, 2)}) | ${busy(x.gateway)} | ${f(x.gateway.cpu.loadGenerator, 2)} | ${f(x.gateway.cpu.other, 2)} | ${f(x.gateway.cpu.idle, 2)} | ${f(x.gateway.cpu.steal, 2)} | ${batch} |`;
    }),
    '',
    'Jobs to the PKCS#11 worker threads: messages per second, jobs per message and messages of results back per message (the work of one turn of the event loop travels as one message per worker; a worker answers what it has done every quarter millisecond), at the gateway peak and in batches.',
    '',
    '| operation | peak: messages/s | jobs / message | replies / message | batch: messages/s | jobs / message | replies / message |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.results.map((x) => {
      const m = (run?: Measured<object>) => (run?.pkcs11Messages ? `${run.pkcs11Messages.perSecond} | ${f(run.pkcs11Messages.jobsPerMessage, 2)} | ${f(run.pkcs11Messages.repliesPerMessage, 2)}` : '- | - | -');
      return `| ${x.operation} | ${m(x.gateway)} | ${m(x.batch)} |`;
    }),
    '',
    `Per 100,000 gateway operations: ${f(r.perHundredThousand.logins, 2)} logins, ${f(r.perHundredThousand.objectSearches, 2)} object searches (${r.perHundredThousand.gatewayOps} operations).`,
    '',
  ];
  const x = r.resilience;
  if (x) {
    lines.push(
      `Resilience (2 clusters 50/50, 20% injected errors on one for 8 s, ghz with 32 workers): ${x.clientErrors} client-visible errors of ${x.requests} (${f(x.clientErrorRate * 100, 3)}%); breaker opened after ${x.breakerOpenedAfterMs === null ? 'never' : `${f(x.breakerOpenedAfterMs)} ms`}; closed ${x.breakerClosedAfterRecoveryMs === null ? 'not within 15 s' : `${f(x.breakerClosedAfterRecoveryMs)} ms`} after the fault ended.`,
      '',
    );
  }
  return lines.join('\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

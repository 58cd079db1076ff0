// npm run bench:worker-batch — a design probe, not the gateway: AES-256-GCM 1 KiB in batches of
// 32 in one process, (a) as the gateway does it today, C_EncryptInit on the main thread and an
// asynchronous C_Encrypt per item, against (b) whole batches handed to worker threads that load
// the same module and run C_EncryptInit and C_Encrypt synchronously there, one message per batch.
// Each caller has its own sessions. Results: $BENCH_OUT/worker-batch.{json,md}.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import * as pkcs11js from 'pkcs11js';
import { createGatewayEstate } from '../testing/gateway-estate.test-kit';
import { cpuShares, cpuSnapshot } from './cpu-usage.bench';
import { DirectPkcs11 } from './direct-pkcs11.bench';
import { closedLoop } from './load-generator.bench';

const root = resolve(__dirname, '../../../..');
const MODULE = process.env['PKCS11_MODULE'] ?? '/usr/lib/softhsm/libsofthsm2.so';
const CALLERS = 2;
const ITEMS = 32;
const WORKERS = 2;
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const PAIRS = 3;

// Plain JavaScript: the worker runs without the TypeScript loader. The main thread has already
// initialised the library (C_Initialize answers CKR_CRYPTOKI_ALREADY_INITIALIZED here).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const pkcs11js = require('pkcs11js');
const lib = new pkcs11js.PKCS11();
lib.load(workerData.module);
try { lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK }); } catch (err) { if (!String(err.message).includes('ALREADY_INITIALIZED')) throw err; }
parentPort.on('message', ({ id, session, key, ivs, items }) => {
  const s = Buffer.from(session);
  const k = Buffer.from(key);
  let last;
  for (let i = 0; i < items.length; i += 1) {
    lib.C_EncryptInit(s, { mechanism: pkcs11js.CKM_AES_GCM, parameter: { type: pkcs11js.CK_PARAMS_GCM, iv: Buffer.from(ivs[i]), ivBits: 96, tagBits: 128 } }, k);
    last = lib.C_Encrypt(s, Buffer.from(items[i]), Buffer.alloc(items[i].length + 16));
  }
  // The batch's last ciphertext, so that the main thread can check the work was really done.
  parentPort.postMessage({ id, last });
});`;

interface Run {
  readonly itemsPerSecond: number;
  readonly processCpu: number;
  readonly mainThreadCpu: number;
}

/**
 * `CALLERS` closed loops of `batch` for `SECONDS`; items/s and the CPUs this process and its main
 * thread used (cpuSnapshot of this process's own pid: its "gateway" figures are this process).
 */
async function measure(batch: (caller: number) => Promise<void>): Promise<Run> {
  const before = cpuSnapshot(process.pid);
  const run = await closedLoop(CALLERS, SECONDS, batch, 0);
  const cpu = cpuShares(before, cpuSnapshot(process.pid));
  if (run.errors > 0) throw new Error(`${run.errors} batches failed`);
  return { itemsPerSecond: run.opsPerSecond * ITEMS, processCpu: cpu.gateway, mainThreadCpu: cpu.gatewayMainThread };
}

async function main(): Promise<void> {
  const out = process.env['BENCH_OUT'] ?? join(root, '.cache/bench');
  mkdirSync(out, { recursive: true });
  const loadAverageAtStart = loadavg().map((l) => Number(l.toFixed(2)));
  const estate = await createGatewayEstate('worker-batch', ['wb-a'], [100], CALLERS * ITEMS);
  let direct: DirectPkcs11 | undefined;
  let workers: Worker[] = [];
  try {
    const hsm = (direct = new DirectPkcs11(MODULE, estate.clusters[0]?.tokenLabel ?? '', estate.pin('wb-a'), CALLERS * ITEMS));
    workers = Array.from({ length: WORKERS }, () => new Worker(WORKER_SOURCE, { eval: true, workerData: { module: MODULE } }));
    const input = { label: 'orders/v2', data: randomBytes(1024) };
    const key = hsm.key(input.label, pkcs11js.CKO_SECRET_KEY);

    // (a) Caller c uses sessions c*ITEMS .. c*ITEMS+ITEMS-1, one per item, as the gateway's pool would.
    const onMainThread = async (caller: number): Promise<void> => {
      await Promise.all(Array.from({ length: ITEMS }, (_, i) => hsm.run(caller * ITEMS + i, 'encrypt', input)));
    };
    // (b) Caller c's whole batch on worker c % WORKERS, in the caller's first session.
    const waiting = new Map<number, (last: Uint8Array) => void>();
    let nextId = 0;
    for (const worker of workers) {
      worker.on('message', ({ id, last }: { id: number; last: Uint8Array }) => waiting.get(id)?.(last));
      worker.on('error', (err) => {
        console.error('[bench] a worker thread failed:', err);
        process.exit(1);
      });
    }
    /** One batch on a worker; resolves with its last IV and ciphertext. */
    const workerBatch = (caller: number): Promise<{ iv: Buffer; ciphertext: Buffer }> =>
      new Promise((done) => {
        const id = (nextId += 1);
        const ivs = Array.from({ length: ITEMS }, () => randomBytes(12));
        waiting.set(id, (last) => {
          waiting.delete(id);
          done({ iv: ivs[ITEMS - 1] as Buffer, ciphertext: Buffer.from(last) });
        });
        workers[caller % WORKERS]?.postMessage({ id, session: hsm.session(caller * ITEMS), key, ivs, items: Array.from({ length: ITEMS }, () => input.data) });
      });
    const onWorkers = async (caller: number): Promise<void> => void (await workerBatch(caller));
    // The workers' output decrypts to the input in the main thread's session: the probe measures real work.
    const checked = await workerBatch(1);
    const decrypted = await hsm.run(0, 'decrypt', { label: input.label, data: checked.ciphertext, iv: checked.iv });
    if (!Buffer.isBuffer(decrypted) || !decrypted.equals(input.data)) throw new Error('a worker thread produced a wrong ciphertext');

    await measure(onWorkers);
    await measure(onMainThread);
    const pairs: { mainThread: Run; workers: Run }[] = [];
    for (let pair = 0; pair < PAIRS; pair += 1) {
      const mainThread = await measure(onMainThread);
      const onWorkerThreads = await measure(onWorkers);
      pairs.push({ mainThread, workers: onWorkerThreads });
      console.log(
        `[bench] pair ${pair + 1}: main thread ${mainThread.itemsPerSecond.toFixed(0)} items/s (main thread ${mainThread.mainThreadCpu.toFixed(2)} CPU), ` +
          `${WORKERS} worker threads ${onWorkerThreads.itemsPerSecond.toFixed(0)} items/s (main thread ${onWorkerThreads.mainThreadCpu.toFixed(2)} CPU)`,
      );
    }
    const mean = (f: (p: { mainThread: Run; workers: Run }) => number) => pairs.reduce((sum, p) => sum + f(p), 0) / pairs.length;
    const report = {
      when: new Date().toISOString(),
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverageAtStart },
      setup: { callers: CALLERS, itemsPerBatch: ITEMS, workers: WORKERS, secondsPerRun: SECONDS, operation: 'AES-256-GCM encrypt 1 KiB', hsm: 'SoftHSM2' },
      pairs,
      ratioWorkersToMainThread: mean((p) => p.workers.itemsPerSecond / p.mainThread.itemsPerSecond),
    };
    const f = (n: number, d = 0) => n.toFixed(d);
    const markdown = [
      `# Design probe: AES-GCM batches on worker threads (${report.when})`,
      '',
      `${report.machine.cpus} CPUs (${report.machine.model}), load average ${loadAverageAtStart.join(' ')} at start, Node ${process.version}; ${CALLERS} callers, batches of ${ITEMS}, ${SECONDS} s per run, SoftHSM2; one process, no gRPC.`,
      '',
      '| pair | main thread: items/s (process / main-thread CPU) | worker threads: items/s (process / main-thread CPU) |',
      '| --- | ---: | ---: |',
      ...pairs.map(
        (p, i) =>
          `| ${i + 1} | ${f(p.mainThread.itemsPerSecond)} (${f(p.mainThread.processCpu, 2)} / ${f(p.mainThread.mainThreadCpu, 2)}) | ${f(p.workers.itemsPerSecond)} (${f(p.workers.processCpu, 2)} / ${f(p.workers.mainThreadCpu, 2)}) |`,
      ),
      '',
      `Worker threads / main thread, mean of the pairs: ${f(report.ratioWorkersToMainThread, 2)}.`,
      '',
    ].join('\n');
    writeFileSync(join(out, 'worker-batch.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(out, 'worker-batch.md'), markdown);
    console.log(markdown);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
    direct?.close();
    estate.remove();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

// ghz (https://ghz.sh, a gRPC load generator in Go) as the benchmark's load against the
// gateway: a compiled client spends far less CPU per request than a Node one, and on a
// 2-CPU machine every cycle the load generator does not use is one the gateway can.
// tools/bench/gateway.sh installs the pinned version into the cache and sets BENCH_GHZ.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SPLIT_CPUS, onOtherCpus } from './cpu-placement.bench';
import type { LoadResult } from './load-generator.bench';

/**
 * BENCH_GHZ_SCHED=batch: ghz runs under SCHED_BATCH, whose wake-ups do not preempt the gateway
 * sharing its CPUs (docs/crypto-gateway.md, "the load generator's wake-ups"); off by default.
 */
export const GHZ_BATCH_SCHEDULED = process.env['BENCH_GHZ_SCHED'] === 'batch';

/** ghz with its arguments, under `chrt -b 0` (BENCH_GHZ_SCHED=batch) and on CPUs other than 0 (BENCH_CPUS=split) when asked. */
export function ghzCommand(binary: string, args: readonly string[]): [string, string[]] {
  const scheduled: [string, string[]] = GHZ_BATCH_SCHEDULED ? ['chrt', ['-b', '0', binary, ...args]] : [binary, [...args]];
  return SPLIT_CPUS ? onOtherCpus(scheduled[0], scheduled[1]) : scheduled;
}

/** Where the gateway is, which proto describes it, and the mTLS identity to call it with. */
export interface GhzTarget {
  readonly binary: string;
  readonly address: string;
  readonly protoDir: string;
  readonly protoFile: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** One ghz run. */
export interface GhzRun {
  /** `Service/Method` inside `keyfleet.crypto.v1`, e.g. `Crypto/Encrypt`. */
  readonly method: string;
  /** The request as proto JSON (bytes as base64); for a streaming call, the messages of one stream. */
  readonly data: object | readonly object[];
  readonly concurrency: number;
  readonly seconds: number;
  /** Open loop: requests started at this rate, each in its own goroutine (--async), however long the others take. */
  readonly rps?: number;
  /** HTTP/2 connections the workers share. */
  readonly connections: number;
}

/** What ghz measured, in the benchmark's terms (ops are successful calls; latency over those). */
export interface GhzResult extends LoadResult {
  /** gRPC status names and how many calls ended with each (`OK` included). */
  readonly statusCodes: Readonly<Record<string, number>>;
}

interface GhzReport {
  count: number;
  total: number;
  statusCodeDistribution?: Record<string, number>;
  latencyDistribution?: { percentage: number; latency: number }[] | null;
}

/** Runs ghz against the gateway; resolves with its report once the run is over. */
export async function ghz(target: GhzTarget, run: GhzRun): Promise<GhzResult> {
  const dir = mkdtempSync(join(tmpdir(), 'ghz-'));
  try {
    const dataFile = join(dir, 'data.json');
    const outFile = join(dir, 'report.json');
    writeFileSync(dataFile, JSON.stringify(run.data));
    const args = [
      '--proto', target.protoFile,
      '--import-paths', target.protoDir,
      '--call', `keyfleet.crypto.v1.${run.method}`,
      '--cacert', target.caFile,
      '--cert', target.certFile,
      '--key', target.keyFile,
      '--cname', 'localhost',
      '--data-file', dataFile,
      '--concurrency', String(run.concurrency),
      '--connections', String(run.connections),
      '--duration', `${run.seconds}s`,
      // Calls still running when the time is up are neither successes nor errors.
      '--duration-stop', 'ignore',
      '--timeout', '20s',
      '--format', 'json',
      '--output', outFile,
      ...(run.rps ? ['--rps', String(Math.max(1, Math.round(run.rps))), '--async'] : []),
      target.address,
    ];
    await new Promise<void>((resolve, reject) => {
      const [command, commandArgs] = ghzCommand(target.binary, args);
      const child = spawn(command, commandArgs, { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ghz exited ${code}: ${stderr.trim()}`))));
    });
    return summarise(JSON.parse(readFileSync(outFile, 'utf8')) as GhzReport);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function summarise(report: GhzReport): GhzResult {
  const statusCodes = report.statusCodeDistribution ?? {};
  const ok = statusCodes['OK'] ?? 0;
  const seconds = report.total / 1e9;
  // ghz's percentiles cover successful calls only (no --count-errors); its latencies are ns.
  const at = (p: number) => (report.latencyDistribution ?? []).find((d) => d.percentage === p)?.latency ?? 0;
  return {
    ops: ok,
    errors: report.count - ok,
    seconds,
    opsPerSecond: seconds > 0 ? ok / seconds : 0,
    p50Ms: at(50) / 1e6,
    p99Ms: at(99) / 1e6,
    statusCodes,
  };
}

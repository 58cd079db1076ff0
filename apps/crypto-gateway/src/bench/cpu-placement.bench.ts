// BENCH_CPUS=split: how the benchmark places threads on a machine whose load generator shares the
// gateway's CPUs. The gateway's JavaScript main thread (and the echo server's, for the gRPC
// ceiling) runs alone on CPU 0; the gateway's other threads (PKCS#11 workers, the Kafka publisher,
// libuv's and V8's) and ghz run on the other CPUs. It stands in for a host where the callers are
// elsewhere; the baseline stays on every CPU, as before. Off by default, named in the report.
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

export const SPLIT_CPUS = process.env['BENCH_CPUS'] === 'split';

/** The CPUs other than 0, as taskset's list (`1-3`). @throws Error on a machine with one CPU */
export function otherCpus(): string {
  const count = cpus().length;
  if (count < 2) throw new Error('BENCH_CPUS=split needs at least two CPUs');
  return count === 2 ? '1' : `1-${count - 1}`;
}

/** Every CPU, as taskset's list. */
function allCpus(): string {
  return `0-${cpus().length - 1}`;
}

function taskset(args: string[]): void {
  execFileSync('taskset', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * The gateway's threads as BENCH_CPUS=split wants them: all of them on the other CPUs, then its
 * main thread (thread id = process id) on CPU 0. Threads the gateway starts later inherit their
 * creator's CPUs (a replaced worker thread would share CPU 0): call once it is up.
 */
export function splitGatewayThreads(pid: number): void {
  taskset(['-a', '-p', '-c', otherCpus(), String(pid)]);
  taskset(['-p', '-c', '0', String(pid)]);
}

/** Runs `work` with this process's main thread alone on CPU 0 (the echo server under BENCH_CPUS=split), then on every CPU again. */
export async function onCpuZero<T>(work: () => Promise<T>): Promise<T> {
  taskset(['-p', '-c', '0', String(process.pid)]);
  try {
    return await work();
  } finally {
    taskset(['-p', '-c', allCpus(), String(process.pid)]);
  }
}

/** The command that runs `binary args` on the other CPUs: `taskset -c <others>` in front of it. */
export function onOtherCpus(binary: string, args: readonly string[]): [string, string[]] {
  return ['taskset', ['-c', otherCpus(), binary, ...args]];
}

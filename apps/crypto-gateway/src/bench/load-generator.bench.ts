// Closed-loop load in this process, for the benchmark's baseline (direct pkcs11js calls, which
// no gRPC load generator can make): N callers each issue the next call as soon as the previous
// one answered. The gateway itself is measured by ghz (ghz.bench.ts). Latencies in microseconds.

export interface LoadResult {
  readonly ops: number;
  readonly errors: number;
  readonly seconds: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function summarise(latencies: number[], errors: number, seconds: number): LoadResult {
  const sorted = Float64Array.from(latencies).sort();
  return {
    ops: latencies.length,
    errors,
    seconds,
    opsPerSecond: latencies.length / seconds,
    p50Ms: percentile(sorted, 50) / 1000,
    p99Ms: percentile(sorted, 99) / 1000,
  };
}

/** `concurrency` callers for `seconds` (after `warmupSeconds` not counted). */
export async function closedLoop(concurrency: number, seconds: number, call: (worker: number) => Promise<unknown>, warmupSeconds = 1): Promise<LoadResult> {
  const warmEnd = performance.now() + warmupSeconds * 1000;
  const end = warmEnd + seconds * 1000;
  const latencies: number[] = [];
  let errors = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (;;) {
        const start = performance.now();
        if (start >= end) return;
        let failed = false;
        try {
          await call(worker);
        } catch {
          failed = true;
        }
        if (start >= warmEnd) {
          if (failed) errors += 1;
          else latencies.push((performance.now() - start) * 1000);
        }
      }
    }),
  );
  return summarise(latencies, errors, seconds);
}

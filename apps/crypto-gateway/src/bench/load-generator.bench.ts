// Closed- and open-loop load for the gateway benchmark: N callers each issue the next request
// as soon as the previous answered (peak throughput), or requests start at a fixed rate
// (latency at a given load). Latencies in microseconds.

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

/** Requests started at `rate` per second for `seconds`, however long each takes (no coordinated omission). */
export async function openLoop(rate: number, seconds: number, call: () => Promise<unknown>): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.floor(rate * seconds);
  const begin = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const due = begin + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      call().then(
        () => void latencies.push((performance.now() - due) * 1000),
        () => void (errors += 1),
      ),
    );
  }
  await Promise.all(pending);
  return summarise(latencies, errors, (performance.now() - begin) / 1000);
}

// What the gateway process runs with beyond its configuration, for operators (start-up log and
// /gateway/status): the C allocator and node's flags. The platform preloads tcmalloc
// (tools/platform/node-args.sh); a deployment that forgot LD_PRELOAD shows "glibc" here.
import { readFileSync } from 'node:fs';

export type Allocator = 'tcmalloc' | 'jemalloc' | 'glibc' | 'unknown';

export interface ProcessRuntime {
  readonly allocator: Allocator;
  /** node's own flags (process.execArgv), e.g. --single-threaded-gc. */
  readonly nodeFlags: readonly string[];
}

/** The allocator among the libraries a /proc/<pid>/maps text lists: a preloaded one wins over libc's malloc. */
export function allocatorIn(maps: string): Allocator {
  if (/\/libtcmalloc[\w.-]*\.so/.test(maps)) return 'tcmalloc';
  if (/\/libjemalloc[\w.-]*\.so/.test(maps)) return 'jemalloc';
  if (/\/libc(\.so\.6|-[\d.]+\.so)\s*$/m.test(maps)) return 'glibc';
  return 'unknown';
}

/** This process's runtime, read once (Linux; elsewhere the allocator is "unknown"). */
export function processRuntime(readMaps: () => string = () => readFileSync('/proc/self/maps', 'utf8')): ProcessRuntime {
  let allocator: Allocator;
  try {
    allocator = allocatorIn(readMaps());
  } catch {
    allocator = 'unknown';
  }
  return { allocator, nodeFlags: [...process.execArgv] };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { TestingException, TestingExceptionCode } from './testing.exception';

/** The workspace root (tests run from anywhere inside it). */
export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

/** Grace period `stop()` gives a process after its signal. */
export const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/**
 * The built entry of an app, `dist/apps/<app>/src/main.js`.
 *
 * @throws TestingException (`NotBuilt`) naming the build command when it is missing.
 */
export function builtEntry(app: string): string {
  const entry = join(WORKSPACE_ROOT, 'dist/apps', app, 'src/main.js');
  if (!existsSync(entry)) {
    throw new TestingException(
      TestingExceptionCode.NotBuilt,
      `${entry} is missing: build first (npx nx run-many -t build, or node tools/build/build.mjs <every lib it uses> apps/${app})`,
    );
  }
  return entry;
}

/** A TCP port on 127.0.0.1 that nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port assigned'))));
    });
  });
}

/** How a process ended and what it wrote. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** stdout and stderr interleaved as they arrived. */
  readonly output: string;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running service started by `startService`. */
export interface ServiceProcess {
  /** Origin of the service, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  readonly pid: number;
  /** Everything written so far, stdout and stderr interleaved. */
  output(): string;
  /**
   * Sends the signal and resolves with the exit once the process has ended.
   *
   * @throws TestingException (`DidNotExit`) if it is still running after `timeoutMs`
   *   (it is then killed with SIGKILL).
   */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<Exit>;
}

/** Options of `startService`: where the health endpoint is, given directly or as a port. */
export type StartServiceOptions = {
  /** The script run with `node`, usually `builtEntry(app)`. */
  readonly entry: string;
  /** The whole environment of the process (nothing is inherited). */
  readonly env: NodeJS.ProcessEnv;
  /** Flags for node itself, before the entry (e.g. `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
  /** How long the service may take to answer 200 on its health URL; 60 s by default. */
  readonly timeoutMs?: number;
} & (
  | { readonly healthUrl: string; readonly port?: undefined }
  /** Sets HTTP_PORT and polls `http://127.0.0.1:<port>/health`. */
  | { readonly port: number; readonly healthUrl?: undefined }
);

/** Children still running, killed if the test process ends without stopping them. */
const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

class Collector {
  output = '';
  stdout = '';
  stderr = '';

  constructor(child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      this.output += d.toString();
    });
    child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      this.output += d.toString();
    });
  }
}

interface Spawned {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  readonly output: () => string;
}

function spawnNode(entry: string, args: readonly string[], env: NodeJS.ProcessEnv, nodeArgs: readonly string[] = []): Spawned {
  const child = spawn(process.execPath, [...nodeArgs, entry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const collected = new Collector(child);
  // 'close' (not 'exit') fires after stdout and stderr are drained, so the output is complete.
  const exited = new Promise<Exit>((resolveExit) =>
    child.once('close', (code, signal) => {
      running.delete(child);
      resolveExit({ code, signal, output: collected.output, stdout: collected.stdout, stderr: collected.stderr });
    }),
  );
  return { child, exited, output: () => collected.output };
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs `node <entry> [args]` to completion, for processes that end by themselves (the CLI,
 * a service refusing its configuration).
 *
 * @throws TestingException (`DidNotExit`) with the output if it runs longer than `timeoutMs`.
 */
export async function runToExit(entry: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Exit> {
  const { child, exited } = spawnNode(entry, args, env);
  const result = await within(exited, timeoutMs);
  if (result !== 'timeout') return result;
  child.kill('SIGKILL');
  const killed = await exited;
  throw new TestingException(TestingExceptionCode.DidNotExit, `${entry} did not exit within ${timeoutMs} ms:\n${killed.output}`);
}

/**
 * Spawns `node <entry>` with exactly `env`, collects its stdout and stderr, and resolves
 * once its health URL answers 200.
 *
 * @throws TestingException (`ExitedDuringStartup`) with the exit code and output if the
 *   process ends first, or (`NotHealthy`) with the output if it is not healthy within
 *   `timeoutMs` (it is then killed).
 */
export async function startService(options: StartServiceOptions): Promise<ServiceProcess> {
  const healthUrl = options.healthUrl ?? `http://127.0.0.1:${options.port}/health`;
  const env = options.port === undefined ? options.env : { ...options.env, HTTP_PORT: String(options.port) };
  const { child, exited, output } = spawnNode(options.entry, [], env, options.nodeArgs);
  let exit: Exit | undefined;
  void exited.then((e) => (exit = e));

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (exit) {
      throw new TestingException(
        TestingExceptionCode.ExitedDuringStartup,
        `${options.entry} exited during start-up (code ${exit.code}, signal ${exit.signal}):\n${exit.output}`,
      );
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      await exited;
      throw new TestingException(
        TestingExceptionCode.NotHealthy,
        `${options.entry}: ${healthUrl} did not answer 200 in time:\n${output()}`,
      );
    }
    const healthy = await fetch(healthUrl, { signal: AbortSignal.timeout(2_500) }).then(
      (res) => res.status === 200,
      () => false,
    );
    if (healthy) break;
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    url: new URL(healthUrl).origin,
    pid: child.pid ?? -1,
    output,
    stop: async (signal = 'SIGTERM', timeoutMs = DEFAULT_STOP_TIMEOUT_MS) => {
      if (exit) return exit;
      child.kill(signal);
      const result = await within(exited, timeoutMs);
      if (result !== 'timeout') return result;
      child.kill('SIGKILL');
      const killed = await exited;
      throw new TestingException(
        TestingExceptionCode.DidNotExit,
        `${options.entry} still running ${timeoutMs} ms after ${signal}; killed:\n${killed.output}`,
      );
    },
  };
}

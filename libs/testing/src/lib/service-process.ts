import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

/** The workspace root (tests run from anywhere inside it). */
export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

/** The built entry of an app; fails clearly when the build has not run. */
export function builtEntry(app: string): string {
  const entry = join(WORKSPACE_ROOT, 'dist/apps', app, 'src/main.js');
  if (!existsSync(entry)) throw new Error(`${entry} is missing: build first (npx nx run-many -t build), npm test does`);
  return entry;
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

export interface ServiceProcess {
  readonly url: string;
  output(): string;
  /** Sends the signal and resolves when the process has exited. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
}

/** Runs `node <entry>` to completion (for processes that exit by themselves, like a CLI or a refused start). */
export function runToExit(entry: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Exit> {
  return new Promise((resolveExit, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not exit within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolveExit({ code, signal, output });
    });
  });
}

/**
 * Starts a built service with the given environment and waits until its `/health` answers
 * 200. Rejects with the process output if it exits or does not become healthy in time.
 */
export async function startService(options: { entry: string; env: NodeJS.ProcessEnv; port: number; timeoutMs?: number }): Promise<ServiceProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  const child = spawn(process.execPath, [options.entry], {
    env: { ...options.env, HTTP_PORT: String(options.port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<Exit>((resolveExit) => child.on('exit', (code, signal) => resolveExit({ code, signal, output })));
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    if (hasExited) throw new Error(`${options.entry} exited during start-up:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.entry} not healthy in time:\n${output}`);
    }
    const healthy = await fetch(`${url}/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (healthy) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (!hasExited) child.kill(signal);
      return exited;
    },
  };
}

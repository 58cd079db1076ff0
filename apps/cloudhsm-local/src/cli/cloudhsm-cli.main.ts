#!/usr/bin/env node
// The local `cloudhsm-cli`: same single-command syntax, credential variables and JSON
// output as AWS's, executed by the cloudhsm-local server (which owns the clusters' state).
// CLOUDHSM_LOCAL_ENDPOINT chooses the server (default http://127.0.0.1:4510).

import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Options naming files on this machine are read here (the server cannot see them):
 * `--data-path F` is sent as `--data <base64 of F>`, `key import pem --path F` as `--pem-base64 <base64 of F>`.
 */
function inlineFiles(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--data-path' && argv[i + 1] !== undefined) {
      out.push('--data', readFileSync(argv[i + 1] ?? '').toString('base64'));
      i += 1;
    } else if (arg === '--path' && argv[1] === 'import' && argv[i + 1] !== undefined) {
      out.push('--pem-base64', readFileSync(argv[i + 1] ?? '').toString('base64'));
      i += 1;
    } else out.push(arg);
  }
  return out;
}

async function main(rawArgv: string[]): Promise<number> {
  let argv: string[];
  try {
    argv = inlineFiles(rawArgv);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error_code: 1, data: `Cannot read the data file: ${err instanceof Error ? err.message : String(err)}` }, null, 2)}\n`);
    return 1;
  }
  const endpoint = process.env['CLOUDHSM_LOCAL_ENDPOINT'] ?? 'http://127.0.0.1:4510';
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === 'help') {
    process.stdout.write('Usage: cloudhsm-cli <group> <command> [--option value...]  (CLOUDHSM_ROLE, CLOUDHSM_PIN=<user>:<password>)\n');
    return 0;
  }
  if (argv[0] === 'interactive') {
    process.stderr.write('cloudhsm-cli (cloudhsm-local): interactive mode is not available; use single-command mode\n');
    return 1;
  }
  const env: Record<string, string> = {};
  for (const name of ['CLOUDHSM_ROLE', 'CLOUDHSM_PIN', 'DESTINATION_CLOUDHSM_ROLE', 'DESTINATION_CLOUDHSM_PIN']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  let response: Response;
  try {
    response = await fetch(`${endpoint}/cloudhsm-cli`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ argv, env }) });
  } catch {
    process.stdout.write(`${JSON.stringify({ error_code: 1, data: `Cannot reach cloudhsm-local at ${endpoint}` }, null, 2)}\n`);
    return 1;
  }
  if (!response.ok) {
    process.stdout.write(`${JSON.stringify({ error_code: 1, data: `cloudhsm-local answered HTTP ${response.status}` }, null, 2)}\n`);
    return 1;
  }
  const result = (await response.json()) as { exitCode: number; stdout: string; files?: { path: string; content: string }[] };
  // Files the command writes (key generate-file --path) land on this machine, as with the real CLI.
  for (const file of result.files ?? []) writeFileSync(file.path, file.content);
  process.stdout.write(result.stdout);
  return result.exitCode;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`cloudhsm-cli: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);

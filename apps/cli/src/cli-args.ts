import { parseArgs } from 'node:util';
import { keyAliasSchema, keyTypeSchema, keyUsageSchema, type KeyType, type KeyUsage } from '@keyfleet/contracts';

export const USAGE = `keyfleet — operate keyfleet from the command line

Usage:
  keyfleet key create <alias> --type <key-type> --usage <usage>[,<usage>...] [--description <text>]
  keyfleet smoke            create a throwaway key and follow it through key-service and audit-service
  keyfleet help

Options:
  --actor <id>          operator id recorded in the audit log (default: $KEYFLEET_OPERATOR, else the OS user)
  --timeout <seconds>   how long to follow the command (default 30)
  --no-wait             publish the command and return without following it

Key types: ${keyTypeSchema.options.join(', ')}
Usages:    ${keyUsageSchema.options.join(', ')}

Environment: KAFKA_BROKERS (required), KAFKA_TOPIC_PREFIX (optional, isolates environments).
Exit codes: 0 done, 1 rejected or failed, 2 bad usage, 3 timed out.`;

export type CliCommand =
  | { readonly kind: 'help' }
  | {
      readonly kind: 'key-create';
      readonly alias: string;
      readonly keyType: KeyType;
      readonly usage: KeyUsage[];
      readonly description: string | undefined;
      readonly actor: string | undefined;
      readonly timeoutMs: number;
      readonly wait: boolean;
    }
  | { readonly kind: 'smoke'; readonly actor: string | undefined; readonly timeoutMs: number };

/** A command line that cannot be run; the message says what to fix. */
export class CliUsageError extends Error {
  override readonly name = 'CliUsageError';
}

function fieldError(what: string, result: { success: false; error: { issues: { message: string }[] } }): never {
  throw new CliUsageError(`${what}: ${result.error.issues[0]?.message ?? 'invalid'}`);
}

/** Parses and validates argv (without node and script) into one command. */
export function parseCliArgs(argv: readonly string[]): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        type: { type: 'string' },
        usage: { type: 'string' },
        description: { type: 'string' },
        actor: { type: 'string' },
        timeout: { type: 'string' },
        'no-wait': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new CliUsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const [group, verb, ...rest] = positionals;
  if (values.help || group === undefined || group === 'help') return { kind: 'help' };
  const timeoutSeconds = values.timeout === undefined ? 30 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0 || timeoutSeconds > 3600) {
    throw new CliUsageError('--timeout: expected a number of seconds between 1 and 3600');
  }
  const timeoutMs = Math.round(timeoutSeconds * 1000);
  if (group === 'smoke' && verb === undefined) return { kind: 'smoke', actor: values.actor, timeoutMs };
  if (group === 'key' && verb === 'create') {
    if (rest.length !== 1) throw new CliUsageError('key create: expected exactly one <alias>');
    const alias = keyAliasSchema.safeParse(rest[0]);
    if (!alias.success) fieldError('alias', alias);
    if (values.type === undefined) throw new CliUsageError('--type is required');
    const keyType = keyTypeSchema.safeParse(values.type);
    if (!keyType.success) throw new CliUsageError(`--type: expected one of ${keyTypeSchema.options.join(', ')}`);
    if (values.usage === undefined) throw new CliUsageError('--usage is required');
    const usage: KeyUsage[] = [];
    for (const item of values.usage.split(',')) {
      const one = keyUsageSchema.safeParse(item.trim());
      if (!one.success) throw new CliUsageError(`--usage: expected any of ${keyUsageSchema.options.join(', ')}`);
      if (!usage.includes(one.data)) usage.push(one.data);
    }
    return {
      kind: 'key-create',
      alias: alias.data,
      keyType: keyType.data,
      usage,
      description: values.description,
      actor: values.actor,
      timeoutMs,
      wait: !values['no-wait'],
    };
  }
  throw new CliUsageError(`unknown command: ${positionals.join(' ')}`);
}

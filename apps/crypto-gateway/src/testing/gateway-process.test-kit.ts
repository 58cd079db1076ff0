// The environment of a crypto-gateway process started by a test suite or the benchmark: the
// local infrastructure, the development PKI and policy, the clusters file and state folder.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { WORKSPACE_ROOT, infraEnv } from '@keyfleet/testing';

export interface GatewayProcessSettings {
  /** Folder whose `state` subfolder holds the gateway's module copies, key directory and audit spool. */
  readonly dir: string;
  readonly clustersFile: string;
  /** Development PKI made by tools/pki/dev-pki.sh. */
  readonly pki: string;
  readonly policyFile: string;
  readonly grpcPort: number;
  readonly topicPrefix: string;
}

/** The whole environment (nothing is inherited); `extra` adds or overrides variables. */
export function gatewayEnv(settings: GatewayProcessSettings, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'],
    SOFTHSM2_CONF: infraEnv('SOFTHSM2_CONF'),
    LOG_LEVEL: 'warn',
    KAFKA_BROKERS: infraEnv('KAFKA_BROKERS'),
    KAFKA_TOPIC_PREFIX: settings.topicPrefix,
    GATEWAY_GRPC_PORT: String(settings.grpcPort),
    GATEWAY_TLS_DIR: settings.pki,
    GATEWAY_POLICY_FILE: settings.policyFile,
    GATEWAY_CLUSTERS_FILE: settings.clustersFile,
    GATEWAY_STATE_DIR: join(settings.dir, 'state'),
    SECRETS_ENDPOINT: infraEnv('CLOUDHSM_LOCAL_ENDPOINT'),
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    ...extra,
  };
}

/** How a gateway process is launched besides its settings: node flags and environment variables. */
export interface GatewayLaunch {
  readonly nodeArgs: string[];
  readonly env: Record<string, string>;
}

/**
 * How the platform launches the gateway by default (tools/platform/node-args.sh, with the
 * developer's GATEWAY_* overrides removed): its node flags and the allocator it preloads.
 * `allocator` asks for another GATEWAY_ALLOCATOR. Throws what the script says if it cannot.
 */
export function shippedGatewayLaunch(allocator?: string): GatewayLaunch {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], ...(allocator === undefined ? {} : { GATEWAY_ALLOCATOR: allocator }) };
  const script = '. "$1" && app_node_args crypto-gateway && echo --- && app_env crypto-gateway';
  const out = execFileSync('bash', ['-c', script, 'launch', join(WORKSPACE_ROOT, 'tools/platform/node-args.sh')], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [flags = '', vars = ''] = out.split('---\n');
  return {
    nodeArgs: flags.split(/\s+/).filter(Boolean),
    env: envPairs(vars.split(/\s+/).filter(Boolean), 'tools/platform/node-args.sh app_env'),
  };
}

/**
 * Variables from `NAME=value` words (the value may hold '=' itself).
 * @throws Error naming `source` and the word, for a word that is not NAME=value
 */
export function envPairs(words: readonly string[], source: string): Record<string, string> {
  return Object.fromEntries(
    words.map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`${source}: "${pair}" is not NAME=value`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

// The environment of a crypto-gateway process started by a test suite or the benchmark: the
// local infrastructure, the development PKI and policy, the clusters file and state folder.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { WORKSPACE_ROOT, builtEntry, freePort, infraEnv, startService, type ServiceProcess } from '@keyfleet/testing';

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

/** Starts the built gateway as the platform launches it (node flags, allocator), with `settings` and `extra` variables. */
export async function startShippedGateway(settings: GatewayProcessSettings, extra: NodeJS.ProcessEnv = {}): Promise<ServiceProcess> {
  const launch = shippedGatewayLaunch();
  return startService({ entry: builtEntry('crypto-gateway'), nodeArgs: launch.nodeArgs, port: await freePort(), env: gatewayEnv(settings, { ...launch.env, ...extra }) });
}

/** What `GET /gateway/status` says of a cluster (the fields the suites read). */
export interface ClusterStatusJson {
  readonly clusterId: string;
  readonly breaker: string;
  readonly operations: number;
  readonly failures: number;
  readonly inFlight: number;
  readonly queued: number;
  readonly drained: boolean;
  readonly pool: { readonly size: number; readonly open: number };
  readonly crypto: { readonly logins: number; readonly objectSearches: number };
}

/** A running gateway's HTTP surface for tests: cluster status and (with GATEWAY_FAULTS=on) fault injection. */
export type GatewayHttp = ReturnType<typeof gatewayHttp>;

/** See {@link GatewayHttp}. */
export function gatewayHttp(gateway: ServiceProcess) {
  const clusters = async (): Promise<ClusterStatusJson[]> => ((await (await fetch(`${gateway.url}/gateway/status`)).json()) as { clusters: ClusterStatusJson[] }).clusters;
  return {
    clusters,
    cluster: async (id: string) => (await clusters()).find((c) => c.clusterId === id) as ClusterStatusJson,
    setFaults: (clusterId: string, faults: { errorRate?: number; latencyMs?: number; hang?: boolean }) =>
      fetch(`${gateway.url}/gateway/test/faults/${clusterId}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faults) }),
  };
}

/** Polls `check` every `everyMs` until it holds. @throws Error naming `what` after `timeoutMs` */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Reads topics of a suite (`prefix` + topic) from the beginning, each reader with a consumer
 * group of its own; a reader resolves once it is running, to its stop. Fetches wait at most
 * 250 ms for data: stopping waits for the fetch in flight (kafkajs' default of 5 s would add that
 * to every test that reads). A consumer that crashed (say, its group's coordinator still loading
 * after the broker's restart) restarts itself unless told not to, also when the crash comes
 * around its disconnect; one still running after the suite makes jest fail the run (exit code 1,
 * "import after the Jest environment has been torn down"). So it restarts only until it is stopped.
 */
export function topicReader(kafka: Kafka, prefix: string) {
  return async (topic: string, each: (value: Buffer) => void): Promise<() => Promise<void>> => {
    let stopped = false;
    const consumer = kafka.consumer({
      groupId: `${prefix}${topic}-${randomBytes(3).toString('hex')}`,
      maxWaitTimeInMs: 250,
      retry: { restartOnFailure: () => Promise.resolve(!stopped) },
    });
    await consumer.connect();
    await consumer.subscribe({ topic: `${prefix}${topic}`, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => each(message.value ?? Buffer.alloc(0)) });
    return () => {
      stopped = true;
      return consumer.disconnect();
    };
  };
}

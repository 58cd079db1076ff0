import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { envFields, httpAndLogFields, loadConfig } from '@keyfleet/config';

const positiveInt = () => envFields.positiveInt();

/**
 * crypto-gateway: gRPC on GATEWAY_GRPC_PORT (mTLS), health and metrics on HTTP_PORT.
 *
 * Variables: HTTP_HOST/HTTP_PORT (3100)/LOG_LEVEL; KAFKA_BROKERS, KAFKA_CLIENT_ID,
 * KAFKA_TOPIC_PREFIX; GATEWAY_GRPC_HOST (127.0.0.1), GATEWAY_GRPC_PORT (50051);
 * GATEWAY_TLS_DIR (ca.crt, server.crt, server.key: required, mTLS only);
 * GATEWAY_POLICY_FILE (callers' keys and operations); GATEWAY_CLUSTERS_FILE (clusters,
 * key rings, keys: see `gatewayFileSchema`); AWS_REGION and SECRETS_ENDPOINT (the Secrets
 * Manager endpoint, e.g. cloudhsm-local's; unset = AWS); PKCS11_MODULE; GATEWAY_STATE_DIR
 * (module copies, audit spool); GATEWAY_LOGIN_MARKER_DIR (cloudhsm-local's login markers,
 * local mode only); GATEWAY_PKCS11_WORKERS and GATEWAY_PKCS11_WORKER_CALLS (PKCS#11 worker threads); retry, breaker and bulkhead settings; GATEWAY_FAULTS=on only in tests.
 */
export const cryptoGatewayConfigSchema = z
  .object({
    ...httpAndLogFields(3100),
    KAFKA_BROKERS: envFields.brokers(),
    KAFKA_CLIENT_ID: envFields.clientId().default('crypto-gateway'),
    KAFKA_TOPIC_PREFIX: envFields.topicPrefix(),
    GATEWAY_GRPC_HOST: envFields.host().default('127.0.0.1'),
    GATEWAY_GRPC_PORT: envFields.port().default('50051'),
    GATEWAY_TLS_DIR: z.string().min(1),
    GATEWAY_POLICY_FILE: z.string().min(1),
    GATEWAY_CLUSTERS_FILE: z.string().min(1),
    AWS_REGION: z.string().min(1).default('us-east-1'),
    SECRETS_ENDPOINT: z.string().url().optional(),
    PKCS11_MODULE: z.string().min(1).default('/usr/lib/softhsm/libsofthsm2.so'),
    GATEWAY_STATE_DIR: z.string().min(1),
    GATEWAY_LOGIN_MARKER_DIR: z.string().min(1).optional(),
    /**
     * Worker threads that run the PKCS#11 operations (C_*Init and the operation) off the event
     * loop; 0 keeps them on the main thread (C_*Init) and libuv's pool (the operation).
     */
    GATEWAY_PKCS11_WORKERS: z.string().regex(/^\d+$/, 'expected 0 or a positive integer').transform(Number).pipe(z.number().max(64)).default('2'),
    /** `sync`: a worker makes the whole call (SoftHSM2, in-process). `async`: the operation goes on to libuv's pool (CloudHSM, networked). */
    GATEWAY_PKCS11_WORKER_CALLS: z.enum(['sync', 'async']).default('sync'),
    GATEWAY_MAX_MESSAGE_BYTES: positiveInt().default(String(1024 * 1024)),
    GATEWAY_RETRY_ATTEMPTS: positiveInt().default('3'),
    GATEWAY_RETRY_BASE_MS: positiveInt().default('5'),
    GATEWAY_RETRY_CAP_MS: positiveInt().default('200'),
    GATEWAY_BREAKER_ERROR_PERCENT: positiveInt().default('10'),
    GATEWAY_BREAKER_WINDOW_MS: positiveInt().default('10000'),
    GATEWAY_BREAKER_VOLUME: positiveInt().default('20'),
    GATEWAY_BREAKER_RESET_MS: positiveInt().default('5000'),
    GATEWAY_BULKHEAD_QUEUE: positiveInt().default('1024'),
    /**
     * The longest a crypto operation may take, queueing and retries included, in ms: the
     * deadline of a call that set none, and the cap of one that set a later one. A hung HSM
     * then fails calls with DEADLINE_EXCEEDED (which its breaker counts) instead of holding them forever.
     */
    GATEWAY_OPERATION_TIMEOUT_MS: positiveInt().default('5000'),
    GATEWAY_AUDIT_FAIL_OPEN: z.enum(['on', 'off']).default('off'),
    GATEWAY_FAULTS: z.enum(['on', 'off']).default('off'),
    /** Names this instance's consumer group for control events (every instance applies every event); default <hostname>-<gRPC port>. */
    GATEWAY_INSTANCE_ID: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/).optional(),
    /** cloudhsm-cli for the admin plane (AWS: /opt/cloudhsm/bin/cloudhsm-cli; locally bin/cloudhsm-cli). Unset: HsmAdmin key and user management answers FAILED_PRECONDITION. */
    CLOUDHSM_CLI: z.string().min(1).optional(),
    /** cloudhsm-local's endpoint, passed to its cloudhsm-cli (local mode only). */
    CLOUDHSM_LOCAL_ENDPOINT: z.string().url().optional(),
  })
  .transform((env) => ({
    http: { host: env.HTTP_HOST, port: env.HTTP_PORT },
    log: { level: env.LOG_LEVEL },
    kafka: { brokers: env.KAFKA_BROKERS, clientId: env.KAFKA_CLIENT_ID, topicPrefix: env.KAFKA_TOPIC_PREFIX },
    grpc: { host: env.GATEWAY_GRPC_HOST, port: env.GATEWAY_GRPC_PORT, tlsDir: env.GATEWAY_TLS_DIR, maxMessageBytes: env.GATEWAY_MAX_MESSAGE_BYTES },
    policyFile: env.GATEWAY_POLICY_FILE,
    clustersFile: env.GATEWAY_CLUSTERS_FILE,
    secrets: { region: env.AWS_REGION, endpoint: env.SECRETS_ENDPOINT },
    hsm: {
      module: env.PKCS11_MODULE,
      stateDir: env.GATEWAY_STATE_DIR,
      loginMarkerDir: env.GATEWAY_LOGIN_MARKER_DIR,
      offload: { workers: env.GATEWAY_PKCS11_WORKERS, calls: env.GATEWAY_PKCS11_WORKER_CALLS },
    },
    retry: { attempts: env.GATEWAY_RETRY_ATTEMPTS, baseMs: env.GATEWAY_RETRY_BASE_MS, capMs: env.GATEWAY_RETRY_CAP_MS },
    breaker: {
      errorThresholdPercentage: env.GATEWAY_BREAKER_ERROR_PERCENT,
      rollingWindowMs: env.GATEWAY_BREAKER_WINDOW_MS,
      volumeThreshold: env.GATEWAY_BREAKER_VOLUME,
      resetTimeoutMs: env.GATEWAY_BREAKER_RESET_MS,
    },
    bulkheadQueue: env.GATEWAY_BULKHEAD_QUEUE,
    operationTimeoutMs: env.GATEWAY_OPERATION_TIMEOUT_MS,
    auditFailOpen: env.GATEWAY_AUDIT_FAIL_OPEN === 'on',
    faults: env.GATEWAY_FAULTS === 'on',
    instanceId: env.GATEWAY_INSTANCE_ID ?? `${hostname()}-${env.GATEWAY_GRPC_PORT}`,
    cli: env.CLOUDHSM_CLI ? { executable: env.CLOUDHSM_CLI, localEndpoint: env.CLOUDHSM_LOCAL_ENDPOINT } : undefined,
  }));
export type CryptoGatewayConfig = z.output<typeof cryptoGatewayConfigSchema>;

/** Validates the environment; throws `ConfigException` naming every bad or missing variable. */
export const loadCryptoGatewayConfig = (env: NodeJS.ProcessEnv = process.env): CryptoGatewayConfig => loadConfig(cryptoGatewayConfigSchema, env);

/**
 * The clusters file: the pools (one per cluster and crypto user) and the key directory.
 * `secretId` names the crypto user's credentials in Secrets Manager (`{"username","password"}`);
 * `pinFormat` is `user:password` for CloudHSM and `password` for a SoftHSM2 token.
 */
export const clusterPoolSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  tokenLabel: z.string().min(1).max(32),
  secretId: z.string().min(1),
  pinFormat: z.enum(['user:password', 'password']).default('password'),
  poolSize: z.number().int().min(1).max(1024).default(16),
  /** Most operations in flight on this cluster; beyond it requests queue (bulkhead). */
  maxInFlight: z.number().int().min(1).default(64),
  /** Load a private copy of the PKCS#11 library for this pool (SoftHSM2 caches PINs per instance). */
  isolatedModule: z.boolean().default(true),
  ivSource: z.enum(['caller', 'hsm']).default('caller'),
  /** The CloudHSM cluster id cloudhsm-cli knows the cluster by (`cluster-...`); defaults to `id`. */
  cloudhsmClusterId: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/).optional(),
  /** The secret of the cluster's admin (`{"username","password"}`), for crypto-user management; unset: users cannot be managed here. */
  adminSecretId: z.string().min(1).optional(),
});
export type ClusterPoolConfig = z.output<typeof clusterPoolSchema>;

export const gatewayFileSchema = z.object({
  /** May be empty (the gateway then answers UNAVAILABLE to every key operation and says so at start). */
  clusters: z.array(clusterPoolSchema),
  rings: z.record(z.string(), z.unknown()),
  keys: z.array(z.unknown()),
});

/** Reads and checks the clusters file (the key directory part is checked by `KeyDirectory`). */
export function readGatewayFile(path: string): z.output<typeof gatewayFileSchema> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the clusters file ${path}: ${(err as Error).message}`);
  }
  const parsed = gatewayFileSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`invalid clusters file ${path}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

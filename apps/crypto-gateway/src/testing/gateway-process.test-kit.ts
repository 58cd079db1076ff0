// The environment of a crypto-gateway process started by a test suite or the benchmark: the
// local infrastructure, the development PKI and policy, the clusters file and state folder.
import { join } from 'node:path';
import { infraEnv } from '@keyfleet/testing';

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

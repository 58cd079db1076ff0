import {
  CloudHSMV2Client,
  CreateClusterCommand,
  DeleteBackupCommand,
  DescribeBackupsCommand,
  DescribeClustersCommand,
  ModifyClusterCommand,
  type Backup,
  type CloudHSMV2ClientConfig,
  type Cluster,
  type CreateClusterRequest,
  type DescribeBackupsRequest,
  type Hsm,
  type ModifyClusterRequest,
} from '@aws-sdk/client-cloudhsm-v2';

/**
 * The newest `@aws-sdk/client-cloudhsm-v2` on npm (3.332.0, 2023) predates these fields:
 * its parser drops them from responses, and its ModifyCluster type has no HsmType (and
 * requires BackupRetentionPolicy). The wire protocol carries them; this adapter keeps them.
 */
export type ClusterMode = 'FIPS' | 'NON_FIPS';
export type NetworkType = 'IPV4' | 'DUALSTACK';

export interface HsmDescription extends Hsm {
  /** Passed through by the old parser but missing from its type. */
  HsmType?: string;
}

export interface ClusterDescription extends Omit<Cluster, 'Hsms'> {
  Hsms?: HsmDescription[];
  Mode?: ClusterMode;
  NetworkType?: NetworkType;
  /** Until when an hsm1 -> hsm2m migration can be rolled back. */
  HsmTypeRollbackExpiration?: Date;
}

export interface BackupDescription extends Backup {
  BackupArn?: string;
  HsmType?: string;
  Mode?: ClusterMode;
}

export interface CreateClusterInput extends CreateClusterRequest {
  Mode?: ClusterMode;
  NetworkType?: NetworkType;
}

export interface ModifyClusterInput {
  ClusterId: string;
  /** Starts an hsm1.medium -> hsm2m.medium migration, or rolls it back within 24 h. */
  HsmType?: string;
  BackupRetentionPolicy?: ModifyClusterRequest['BackupRetentionPolicy'];
}

const RESTORED_FIELDS = ['Mode', 'NetworkType', 'HsmTypeRollbackExpiration', 'HsmType', 'BackupArn'] as const;
const rawBodies = new WeakMap<object, Uint8Array>();

interface HasBody {
  body?: unknown;
}

async function readBody(body: unknown): Promise<Uint8Array | undefined> {
  if (body instanceof Uint8Array) return body;
  if (body && typeof body === 'object' && Symbol.asyncIterator in body) {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
    return Buffer.concat(chunks);
  }
  return undefined;
}

/** Copies the fields the old parser dropped from the raw JSON object into the parsed one. */
function restore(parsed: Record<string, unknown>, raw: unknown): void {
  if (!raw || typeof raw !== 'object') return;
  const source = raw as Record<string, unknown>;
  for (const field of RESTORED_FIELDS) {
    if (parsed[field] !== undefined || source[field] === undefined) continue;
    const value = source[field];
    parsed[field] = field === 'HsmTypeRollbackExpiration' && typeof value === 'number' ? new Date(value * 1000) : value;
  }
}

function restoreOutput(output: Record<string, unknown>, raw: Record<string, unknown>): void {
  for (const one of ['Cluster', 'Backup'] as const) {
    if (output[one] && typeof output[one] === 'object') restore(output[one] as Record<string, unknown>, raw[one]);
  }
  for (const many of ['Clusters', 'Backups'] as const) {
    const list = output[many];
    const rawList = raw[many];
    if (Array.isArray(list) && Array.isArray(rawList)) list.forEach((item, i) => restore(item as Record<string, unknown>, rawList[i]));
  }
}

/**
 * A CloudHSMv2 SDK client whose responses keep Mode, NetworkType, HsmTypeRollbackExpiration
 * and a backup's HsmType. Two middlewares around the SDK's deserializer: the inner one
 * buffers the raw body (and hands the same bytes on), the outer one merges the dropped
 * fields into the parsed output.
 */
export function createCloudHsmV2Client(config: CloudHSMV2ClientConfig): CloudHSMV2Client {
  const client = new CloudHSMV2Client(config);
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as HasBody;
      const bytes = await readBody(response.body);
      if (bytes) {
        // The same bytes go on to the SDK's parser; a copy stays for the outer middleware.
        response.body = bytes;
        rawBodies.set(response, bytes);
      }
      return result;
    },
    { step: 'deserialize', priority: 'low', name: 'keyfleetCaptureRawBody' },
  );
  client.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const bytes = rawBodies.get(result.response as object);
      if (bytes && result.output && typeof result.output === 'object') {
        try {
          restoreOutput(result.output as unknown as Record<string, unknown>, JSON.parse(Buffer.from(bytes).toString('utf8')) as Record<string, unknown>);
        } catch {
          // Leave the SDK's output as it is when the body is not JSON.
        }
      }
      return result;
    },
    { step: 'deserialize', priority: 'high', name: 'keyfleetRestoreDroppedFields' },
  );
  return client;
}

/** Every cluster (all pages) with the fields the old SDK drops. */
export async function describeAllClusters(client: CloudHSMV2Client, filters?: Record<string, string[]>): Promise<ClusterDescription[]> {
  const clusters: ClusterDescription[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new DescribeClustersCommand({ ...(filters ? { Filters: filters } : {}), ...(token ? { NextToken: token } : {}) }));
    clusters.push(...((page.Clusters ?? []) as ClusterDescription[]));
    token = page.NextToken;
  } while (token);
  return clusters;
}

/** Every backup (all pages) matching the request's filters. */
export async function describeAllBackups(client: CloudHSMV2Client, input: Omit<DescribeBackupsRequest, 'NextToken'> = {}): Promise<BackupDescription[]> {
  const backups: BackupDescription[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new DescribeBackupsCommand({ ...input, ...(token ? { NextToken: token } : {}) }));
    backups.push(...((page.Backups ?? []) as BackupDescription[]));
    token = page.NextToken;
  } while (token);
  return backups;
}

export async function createCluster(client: CloudHSMV2Client, input: CreateClusterInput): Promise<ClusterDescription> {
  const output = await client.send(new CreateClusterCommand(input));
  return output.Cluster as ClusterDescription;
}

/** ModifyCluster as the service defines it today (HsmType optional, BackupRetentionPolicy optional). */
export async function modifyCluster(client: CloudHSMV2Client, input: ModifyClusterInput): Promise<ClusterDescription> {
  // The serializer sends every field of the input as JSON; only the old type is narrower.
  const output = await client.send(new ModifyClusterCommand(input as ModifyClusterRequest));
  return output.Cluster as ClusterDescription;
}

/** A cluster's backups as keyfleet's backup hygiene sees them (the `BackupCatalog` port). */
export function cloudHsmBackupCatalog(client: CloudHSMV2Client) {
  return {
    async listBackups(clusterId: string) {
      const backups = await describeAllBackups(client, { Filters: { clusterIds: [clusterId] } });
      return backups.map((b) => ({
        backupId: b.BackupId ?? '',
        clusterId: b.ClusterId ?? clusterId,
        state: b.BackupState ?? 'UNKNOWN',
        createdAt: b.CreateTimestamp ?? new Date(0),
        neverExpires: b.NeverExpires ?? false,
      }));
    },
    async deleteBackup(backupId: string): Promise<void> {
      await client.send(new DeleteBackupCommand({ BackupId: backupId }));
    },
  };
}

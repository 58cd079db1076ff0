// A CloudHSM estate in cloudhsm-local for the gateway's admin-plane tests: an ACTIVE hsm2m
// cluster with an admin and two crypto users (gw_app, gw_standby) whose SoftHSM2 tokens
// cloudhsm-local keeps, and a clone restored from its backup (same users and passwords),
// so keys replicate between them. Credentials live only in cloudhsm-local's Secrets Manager.
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { CreateHsmCommand, DeleteClusterCommand, DeleteHsmCommand } from '@aws-sdk/client-cloudhsm-v2';
import { CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { createCloudHsmV2Client, createCluster, describeAllBackups, describeAllClusters } from '@keyfleet/aws';
import { WORKSPACE_ROOT, builtEntry, deleteClusterTokens, infraEnv, runToExit } from '@keyfleet/testing';

/** The cloudhsm-cli executable the gateway runs (cloudhsm-local's). */
export const CLI = join(WORKSPACE_ROOT, 'bin/cloudhsm-cli');

export interface EstateCluster {
  /** The CloudHSM cluster id (cluster-...). */
  readonly clusterId: string;
  /** Secret ids by username (admin, gw_app, gw_standby). */
  readonly secrets: Readonly<Record<string, string>>;
}

export interface CloudHsmEstate {
  readonly region: string;
  readonly source: EstateCluster;
  readonly clone: EstateCluster;
  readonly secretsClient: SecretsManagerClient;
  /** Every password this estate made (for "never in a log or event" checks). */
  readonly passwords: readonly string[];
  /** Stores a new password for a secret under AWSPENDING (as a rotation stages it); returns it. */
  stagePassword(secretId: string): Promise<string>;
  /** Moves AWSCURRENT to the AWSPENDING version (the rotation's last step). */
  promotePending(secretId: string): Promise<void>;
  /** A new secret {"username","password"} in the estate's region. */
  createSecret(name: string, username: string): Promise<string>;
  remove(): Promise<void>;
}

export async function createCloudHsmEstate(suite: string, region: string): Promise<CloudHsmEstate> {
  const endpoint = infraEnv('CLOUDHSM_LOCAL_ENDPOINT');
  const config = { endpoint, region, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 };
  const aws = createCloudHsmV2Client(config);
  const sm = new SecretsManagerClient(config);
  const tag = `${suite}-${randomBytes(3).toString('hex')}`;
  const passwords: string[] = [];
  const newPassword = () => {
    const password = `Pw-${randomBytes(9).toString('base64url')}`;
    passwords.push(password);
    return password;
  };
  const createSecret = async (name: string, username: string, password = newPassword()) => {
    const id = `keyfleet/test/${tag}/${name}`;
    await sm.send(new CreateSecretCommand({ Name: id, SecretString: JSON.stringify({ username, password }) }));
    return id;
  };
  const cli = async (args: string[], env: Record<string, string> = {}) => {
    const done = await runToExit(join(dirname(builtEntry('cloudhsm-local')), 'cli/cloudhsm-cli.main.js'), args, { PATH: process.env['PATH'], CLOUDHSM_LOCAL_ENDPOINT: endpoint, ...env });
    if (done.code !== 0) throw new Error(`estate set-up: cloudhsm-cli ${args.slice(0, 2).join(' ')} failed: ${done.output}`);
  };

  /** Deletes clusters (HSMs first) and the tokens cloudhsm-local made for their users. */
  const removeClusters = async (ids: readonly string[]) => {
    for (const clusterId of ids) {
      const [described] = await describeAllClusters(aws, { clusterIds: [clusterId] });
      for (const hsm of described?.Hsms ?? []) await aws.send(new DeleteHsmCommand({ ClusterId: clusterId, HsmId: hsm.HsmId }));
      await aws.send(new DeleteClusterCommand({ ClusterId: clusterId }));
    }
    deleteClusterTokens(ids.filter((id) => id.length > 0));
  };
  // Clusters a crashed earlier run left behind would count against the region's HSM quota.
  const leftovers = (await describeAllClusters(aws)).filter((c) => c.State !== 'DELETED' && c.TagList?.some((t) => t.Key === 'keyfleet:test'));
  await removeClusters(leftovers.map((c) => c.ClusterId ?? ''));

  const made: string[] = [];
  try {
    return await build();
  } catch (err) {
    await removeClusters(made);
    throw err;
  }

  async function build(): Promise<CloudHsmEstate> {
    const source = await createCluster(aws, { HsmType: 'hsm2m.medium', SubnetIds: ['subnet-0a1b2c3d', 'subnet-1a1b2c3d'], Mode: 'NON_FIPS', TagList: [{ Key: 'keyfleet:test', Value: tag }] });
    const sourceId = source.ClusterId ?? '';
    made.push(sourceId);
    await aws.send(new CreateHsmCommand({ ClusterId: sourceId, AvailabilityZone: `${region}a` }));
    const initialized = await fetch(`${endpoint}/admin/regions/${region}/clusters/${sourceId}/initialize`, { method: 'POST' });
    if (!initialized.ok) throw new Error(`estate set-up: initialize answered ${initialized.status}`);
    const adminPassword = newPassword();
    await cli(['cluster', 'activate', '--password', adminPassword, '--cluster-id', sourceId]);
    const userPasswords: Record<string, string> = { admin: adminPassword };
    for (const user of ['gw_app', 'gw_standby']) {
      userPasswords[user] = newPassword();
      await cli(['user', 'create', '--username', user, '--role', 'crypto-user', '--password', userPasswords[user] ?? '', '--cluster-id', sourceId], {
        CLOUDHSM_ROLE: 'admin',
        CLOUDHSM_PIN: `admin:${adminPassword}`,
      });
    }
    // A second HSM backs the cluster up with its users; the clone is restored from that backup.
    await aws.send(new CreateHsmCommand({ ClusterId: sourceId, AvailabilityZone: `${region}b` }));
    const backups = await describeAllBackups(aws, { Filters: { clusterIds: [sourceId], states: ['READY'] } });
    const newest = [...backups].sort((a, b) => (b.CreateTimestamp?.getTime() ?? 0) - (a.CreateTimestamp?.getTime() ?? 0))[0];
    const clone = await createCluster(aws, { HsmType: 'hsm2m.medium', SubnetIds: ['subnet-0a1b2c3d'], SourceBackupId: newest?.BackupId, TagList: [{ Key: 'keyfleet:test', Value: tag }] });
    const cloneId = clone.ClusterId ?? '';
    made.push(cloneId);
    await aws.send(new CreateHsmCommand({ ClusterId: cloneId, AvailabilityZone: `${region}a` }));

    // One secret per cluster and user (the clone starts with the source's passwords; they may part later).
    const secretsOf = async (side: string) => {
      const out: Record<string, string> = {};
      for (const user of ['admin', 'gw_app', 'gw_standby']) out[user] = await createSecret(`${side}/${user}`, user, userPasswords[user]);
      return out;
    };
    const sourceSecrets = await secretsOf('source');
    const cloneSecrets = await secretsOf('clone');

    return {
      region,
      source: { clusterId: sourceId, secrets: sourceSecrets },
      clone: { clusterId: cloneId, secrets: cloneSecrets },
      secretsClient: sm,
      passwords,
      async stagePassword(secretId) {
        const { SecretString } = await sm.send(new GetSecretValueCommand({ SecretId: secretId }));
        const { username } = JSON.parse(SecretString ?? '{}') as { username: string };
        const password = newPassword();
        await sm.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify({ username, password }), VersionStages: ['AWSPENDING'] }));
        return password;
      },
      async promotePending(secretId) {
        const described = await sm.send(new DescribeSecretCommand({ SecretId: secretId }));
        const stages = Object.entries(described.VersionIdsToStages ?? {});
        const pending = stages.find(([, s]) => s.includes('AWSPENDING'))?.[0];
        const current = stages.find(([, s]) => s.includes('AWSCURRENT'))?.[0];
        if (!pending || !current) throw new Error(`${secretId} has no AWSPENDING version`);
        await sm.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: pending, RemoveFromVersionId: current }));
      },
      createSecret: (name, username) => createSecret(name, username),
      remove: () => removeClusters([cloneId, sourceId]),
    };
  }
}

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudHSMV2Client,
  CopyBackupToRegionCommand,
  CreateHsmCommand,
  DeleteBackupCommand,
  DeleteClusterCommand,
  DeleteHsmCommand,
  DescribeBackupsCommand,
  DescribeClustersCommand,
  ListTagsCommand,
  ModifyBackupAttributesCommand,
  RestoreBackupCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-cloudhsm-v2';
import { createCloudHsmV2Client, createCluster, describeAllBackups, describeAllClusters, modifyCluster } from '@keyfleet/aws';
import { AdjustableClock, LocalAws } from '@keyfleet/local-aws';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const REGION = 'eu-west-1';
const SUBNETS = ['subnet-0a1b2c3d', 'subnet-1a2b3c4d'];

/**
 * CloudHSMv2 through the real SDK v3 client (and keyfleet's adapter for the fields that
 * client drops), against cloudhsm-local over HTTP, with lifecycle timings and the clock
 * advanced instead of waited for.
 */
describe('CloudHSMv2 through @aws-sdk/client-cloudhsm-v2', () => {
  let dataDir: string;
  let server: Server;
  let localAws: LocalAws;
  let client: CloudHSMV2Client;
  let plain: CloudHSMV2Client;
  let endpoint: string;
  const configFor = (region: string) => ({ endpoint, region, credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' }, maxAttempts: 1 });
  const clientFor = (region: string) => createCloudHsmV2Client(configFor(region));

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cloudhsm-local-'));
    // A clock that moves only when the test advances it, so times compare exactly.
    localAws = new LocalAws({
      dataDir,
      account: '111122223333',
      clock: new AdjustableClock(() => Date.UTC(2026, 10, 22, 9, 0, 0)),
      timings: { clusterCreateMs: 2 * MINUTE, hsmCreateMs: 5 * MINUTE, hsmDeleteMs: MINUTE, clusterDeleteMs: MINUTE, clusterInitializeMs: MINUTE, backupMs: MINUTE, migrationStepMs: 30 * MINUTE },
    });
    server = createServer(localAws.dispatcher.listener());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    client = clientFor(REGION);
    plain = new CloudHSMV2Client(configFor(REGION));
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** An ACTIVE cluster with one ACTIVE HSM per subnet (activation is cloudhsm-cli's job, done here directly). */
  async function activeCluster(hsmType = 'hsm1.medium', mode: 'FIPS' | 'NON_FIPS' = 'FIPS') {
    const cluster = await createCluster(client, { HsmType: hsmType, SubnetIds: SUBNETS, Mode: mode });
    localAws.clock.advance(2 * MINUTE);
    for (const zone of [`${REGION}a`, `${REGION}b`]) await client.send(new CreateHsmCommand({ ClusterId: cluster.ClusterId!, AvailabilityZone: zone }));
    localAws.clock.advance(5 * MINUTE);
    localAws.cloudHsm.markInitialized(REGION, cluster.ClusterId!);
    localAws.cloudHsm.activate(REGION, cluster.ClusterId!);
    localAws.clock.advance(MINUTE);
    return cluster.ClusterId!;
  }

  it('creates a cluster that goes CREATE_IN_PROGRESS -> UNINITIALIZED, with the fields the old SDK drops kept by the adapter', async () => {
    const created = await createCluster(client, { HsmType: 'hsm2m.medium', SubnetIds: SUBNETS, Mode: 'NON_FIPS', TagList: [{ Key: 'team', Value: 'payments' }] });
    expect(created).toMatchObject({ State: 'CREATE_IN_PROGRESS', HsmType: 'hsm2m.medium', Mode: 'NON_FIPS', NetworkType: 'IPV4' });
    expect(created.ClusterId).toMatch(/^cluster-[2-7a-z]{11}$/);
    expect(created.SubnetMapping).toEqual({ [`${REGION}a`]: SUBNETS[0], [`${REGION}b`]: SUBNETS[1] });
    expect(created.CreateTimestamp).toBeInstanceOf(Date);
    localAws.clock.advance(2 * MINUTE);
    const [described] = await describeAllClusters(client, { clusterIds: [created.ClusterId!] });
    expect(described).toMatchObject({ State: 'UNINITIALIZED', Mode: 'NON_FIPS', TagList: [{ Key: 'team', Value: 'payments' }] });
    // Without the adapter the published client loses Mode: the reason the adapter exists.
    const raw = await plain.send(new DescribeClustersCommand({ Filters: { clusterIds: [created.ClusterId!] } }));
    expect(raw.Clusters?.[0]).not.toHaveProperty('Mode');
  });

  it('adds HSMs per zone, backs up the active cluster when its HSMs change, and deletes in order', async () => {
    const clusterId = await activeCluster();
    const [cluster] = await describeAllClusters(client, { clusterIds: [clusterId] });
    expect(cluster?.State).toBe('ACTIVE');
    expect(cluster?.Hsms?.map((h) => [h.AvailabilityZone, h.State])).toEqual([[`${REGION}a`, 'ACTIVE'], [`${REGION}b`, 'ACTIVE']]);
    const before = (await describeAllBackups(client, { Filters: { clusterIds: [clusterId] } })).length;
    await client.send(new DeleteHsmCommand({ ClusterId: clusterId, EniIp: cluster!.Hsms![1]!.EniIp }));
    localAws.clock.advance(2 * MINUTE);
    const backups = await describeAllBackups(client, { Filters: { clusterIds: [clusterId] } });
    expect(backups).toHaveLength(before + 1);
    expect(backups[0]).toMatchObject({ BackupState: 'READY', HsmType: 'hsm1.medium', Mode: 'FIPS' });
    await expect(client.send(new DeleteClusterCommand({ ClusterId: clusterId }))).rejects.toMatchObject({
      name: 'CloudHsmInvalidRequestException',
      message: 'All HSMs must be deleted before the cluster can be deleted',
    });
    await expect(client.send(new CreateHsmCommand({ ClusterId: clusterId, AvailabilityZone: `${REGION}c` }))).rejects.toMatchObject({
      name: 'CloudHsmInvalidRequestException',
    });
  });

  it('migrates hsm1.medium to hsm2m.medium HSM by HSM, refuses HSM changes meanwhile, and rolls back within 24 h', async () => {
    const clusterId = await activeCluster();
    const migrating = await modifyCluster(client, { ClusterId: clusterId, HsmType: 'hsm2m.medium' });
    expect(migrating.State).toBe('MODIFY_IN_PROGRESS');
    expect(migrating.HsmTypeRollbackExpiration?.getTime()).toBe(localAws.clock.now().getTime() + DAY);
    await expect(client.send(new DeleteHsmCommand({ ClusterId: clusterId, HsmId: migrating.Hsms![0]!.HsmId }))).rejects.toMatchObject({
      name: 'CloudHsmInvalidRequestException',
      message: 'HSMs cannot be added or removed while the cluster is MODIFY_IN_PROGRESS',
    });
    localAws.clock.advance(30 * MINUTE);
    let [cluster] = await describeAllClusters(client, { clusterIds: [clusterId] });
    expect(cluster?.Hsms?.map((h) => h.HsmType)).toEqual(['hsm2m.medium', 'hsm1.medium']);
    localAws.clock.advance(30 * MINUTE);
    [cluster] = await describeAllClusters(client, { clusterIds: [clusterId] });
    expect(cluster).toMatchObject({ State: 'ACTIVE', HsmType: 'hsm2m.medium' });
    expect(cluster?.HsmTypeRollbackExpiration).toBeInstanceOf(Date);

    const rollingBack = await modifyCluster(client, { ClusterId: clusterId, HsmType: 'hsm1.medium' });
    expect(rollingBack.State).toBe('ROLLBACK_IN_PROGRESS');
    localAws.clock.advance(HOUR);
    [cluster] = await describeAllClusters(client, { clusterIds: [clusterId] });
    expect(cluster).toMatchObject({ State: 'ACTIVE', HsmType: 'hsm1.medium' });
  });

  it('refuses a rollback after the 24-hour window', async () => {
    const clusterId = await activeCluster();
    await modifyCluster(client, { ClusterId: clusterId, HsmType: 'hsm2m.medium' });
    localAws.clock.advance(DAY + MINUTE);
    await expect(modifyCluster(client, { ClusterId: clusterId, HsmType: 'hsm1.medium' })).rejects.toMatchObject({
      name: 'CloudHsmInvalidRequestException',
      message: 'The 24-hour rollback window of the last migration has passed',
    });
  });

  it('deletes a backup into PENDING_DELETION, restores it, and purges it after 7 days', async () => {
    const clusterId = await activeCluster();
    await client.send(new DeleteHsmCommand({ ClusterId: clusterId, HsmId: (await describeAllClusters(client))[0]!.Hsms![1]!.HsmId }));
    localAws.clock.advance(2 * MINUTE);
    const [newest, older] = await describeAllBackups(client, { Filters: { clusterIds: [clusterId] } });
    const deleted = await client.send(new DeleteBackupCommand({ BackupId: older!.BackupId }));
    expect(deleted.Backup).toMatchObject({ BackupState: 'PENDING_DELETION' });
    expect(deleted.Backup?.DeleteTimestamp).toBeInstanceOf(Date);
    expect((await client.send(new RestoreBackupCommand({ BackupId: older!.BackupId }))).Backup?.BackupState).toBe('READY');
    await client.send(new DeleteBackupCommand({ BackupId: older!.BackupId }));
    localAws.clock.advance(7 * DAY);
    await client.send(new ModifyBackupAttributesCommand({ BackupId: newest!.BackupId, NeverExpires: true }));
    const visible = await describeAllBackups(client, { Filters: { clusterIds: [clusterId] } });
    expect(visible.map((b) => b.BackupId)).not.toContain(older!.BackupId);
    const purged = await describeAllBackups(client, { Filters: { backupIds: [older!.BackupId!], states: ['DELETED'] } });
    expect(purged).toHaveLength(1);
    await expect(client.send(new RestoreBackupCommand({ BackupId: older!.BackupId }))).rejects.toMatchObject({ name: 'CloudHsmResourceNotFoundException' });
  });

  it('restores a cluster from a backup, keeps the compliance mode, and copies backups across regions', async () => {
    const clusterId = await activeCluster('hsm1.medium', 'FIPS');
    const [backup] = await describeAllBackups(client, { Filters: { clusterIds: [clusterId], states: ['READY'] } });
    await expect(createCluster(client, { HsmType: 'hsm2m.medium', SubnetIds: SUBNETS, SourceBackupId: backup!.BackupId, Mode: 'NON_FIPS' })).rejects.toMatchObject({
      name: 'CloudHsmInvalidRequestException',
      message: 'A NON_FIPS cluster cannot be created from a backup of a FIPS cluster',
    });
    const clone = await createCluster(client, { HsmType: 'hsm2m.medium', SubnetIds: SUBNETS, SourceBackupId: backup!.BackupArn });
    expect(clone).toMatchObject({ SourceBackupId: backup!.BackupId, Mode: 'FIPS' });
    localAws.clock.advance(2 * MINUTE);
    await client.send(new CreateHsmCommand({ ClusterId: clone.ClusterId!, AvailabilityZone: `${REGION}a` }));
    localAws.clock.advance(5 * MINUTE);
    expect((await describeAllClusters(client, { clusterIds: [clone.ClusterId!] }))[0]?.State).toBe('ACTIVE');

    const copy = await client.send(new CopyBackupToRegionCommand({ BackupId: backup!.BackupId, DestinationRegion: 'eu-central-1' }));
    expect(copy.DestinationBackup).toMatchObject({ SourceRegion: REGION, SourceBackup: backup!.BackupId, SourceCluster: clusterId });
    const elsewhere = clientFor('eu-central-1');
    localAws.clock.advance(MINUTE);
    const [copied] = await describeAllBackups(elsewhere, { Filters: { sourceBackupIds: [backup!.BackupId!] } });
    expect(copied).toMatchObject({ BackupState: 'READY', SourceRegion: REGION, SourceBackup: backup!.BackupId });
  });

  it('pages clusters and backups, in either order', async () => {
    for (let i = 0; i < 5; i += 1) await createCluster(client, { HsmType: 'hsm2m.medium', SubnetIds: SUBNETS });
    const first = await client.send(new DescribeClustersCommand({ MaxResults: 2 }));
    expect(first.Clusters).toHaveLength(2);
    expect(first.NextToken).toBeDefined();
    expect(await describeAllClusters(client)).toHaveLength(5);

    const clusterId = await activeCluster();
    for (let i = 0; i < 3; i += 1) localAws.clock.advance(DAY);
    const ascending = await client.send(new DescribeBackupsCommand({ Filters: { clusterIds: [clusterId] }, SortAscending: true, MaxResults: 50 }));
    const times = (ascending.Backups ?? []).map((b) => b.CreateTimestamp!.getTime());
    expect(times.length).toBeGreaterThanOrEqual(4);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('tags clusters and backups', async () => {
    const cluster = await createCluster(client, { HsmType: 'hsm2m.medium', SubnetIds: SUBNETS });
    await client.send(new TagResourceCommand({ ResourceId: cluster.ClusterId, TagList: [{ Key: 'env', Value: 'prod' }, { Key: 'team', Value: 'a' }] }));
    await client.send(new UntagResourceCommand({ ResourceId: cluster.ClusterId, TagKeyList: ['team'] }));
    expect((await client.send(new ListTagsCommand({ ResourceId: cluster.ClusterId }))).TagList).toEqual([{ Key: 'env', Value: 'prod' }]);
  });

  it('answers invalid requests with the modelled error types', async () => {
    await expect(client.send(new DescribeClustersCommand({ MaxResults: 100 }))).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    await expect(client.send(new CreateHsmCommand({ ClusterId: 'cluster-234567abcde', AvailabilityZone: `${REGION}a` }))).rejects.toMatchObject({
      name: 'CloudHsmResourceNotFoundException',
    });
    await expect(createCluster(client, { HsmType: 'hsm9.huge', SubnetIds: SUBNETS })).rejects.toMatchObject({ name: 'CloudHsmInvalidRequestException' });
    await expect(createCluster(client, { HsmType: 'hsm2m.medium', SubnetIds: SUBNETS, BackupRetentionPolicy: { Type: 'DAYS', Value: '3' } })).rejects.toMatchObject({
      message: 'BackupRetentionPolicy Value must be between 7 and 379 days',
    });
  });
});

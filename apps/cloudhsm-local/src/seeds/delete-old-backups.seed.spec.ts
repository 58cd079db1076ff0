import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateHsmCommand, DeleteHsmCommand, ModifyBackupAttributesCommand, type CloudHSMV2Client } from '@aws-sdk/client-cloudhsm-v2';
import { cloudHsmBackupCatalog, createCloudHsmV2Client, createCluster, describeAllBackups, describeAllClusters } from '@keyfleet/aws';
import { CleanUpBackupsUseCase } from '@keyfleet/backup-hygiene';
import { AdjustableClock, LocalAws } from '@keyfleet/local-aws';

const DAY = 86_400_000;
const REGION = 'eu-west-1';

/**
 * Seed procedure (best-practices post): after rotating passwords, delete every backup of
 * the cluster taken before the rotation, dry run first, keeping the last one; a deleted
 * backup stays restorable for 7 days. Run end to end through the real SDK against
 * cloudhsm-local.
 */
describe('seed: delete a cluster\'s backups older than a point in time', () => {
  let dataDir: string;
  let server: Server;
  let localAws: LocalAws;
  let client: CloudHSMV2Client;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'seed-backups-'));
    localAws = new LocalAws({ dataDir, account: '111122223333', clock: new AdjustableClock(() => Date.UTC(2026, 10, 1)) });
    server = createServer(localAws.dispatcher.listener());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    client = createCloudHsmV2Client({
      endpoint: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
      region: REGION,
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });

  afterEach(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('plans with a dry run, then deletes exactly the planned backups, keeping the newest and NeverExpires ones', async () => {
    // An active cluster with a week of daily backups, plus one for an HSM change.
    const clusterId = (await createCluster(client, { HsmType: 'hsm2m.medium', SubnetIds: ['subnet-0a1b2c3d', 'subnet-1a2b3c4d'] })).ClusterId!;
    for (const zone of [`${REGION}a`, `${REGION}b`]) await client.send(new CreateHsmCommand({ ClusterId: clusterId, AvailabilityZone: zone }));
    localAws.cloudHsm.markInitialized(REGION, clusterId);
    localAws.cloudHsm.activate(REGION, clusterId);
    localAws.clock.advance(6 * DAY);
    const [cluster] = await describeAllClusters(client, { clusterIds: [clusterId] });
    await client.send(new DeleteHsmCommand({ ClusterId: clusterId, HsmId: cluster!.Hsms![1]!.HsmId }));
    localAws.clock.advance(DAY / 2);
    const all = await describeAllBackups(client, { Filters: { clusterIds: [clusterId] }, SortAscending: true });
    expect(all).toHaveLength(8);
    await client.send(new ModifyBackupAttributesCommand({ BackupId: all[1]!.BackupId, NeverExpires: true }));

    const rotatedAt = new Date(Date.UTC(2026, 10, 5));
    const sut = new CleanUpBackupsUseCase(cloudHsmBackupCatalog(client));
    const plan = await sut.execute({ clusterId, olderThan: rotatedAt, dryRun: true });
    expect(await describeAllBackups(client, { Filters: { clusterIds: [clusterId], states: ['READY'] } })).toHaveLength(8);
    expect(plan.deleted.map((b) => b.backupId)).toEqual([all[0]!.BackupId, all[2]!.BackupId, all[3]!.BackupId]);

    const progress: string[] = [];
    const done = await sut.execute({ clusterId, olderThan: rotatedAt, dryRun: false }, (line) => progress.push(line));
    expect(done.deleted.map((b) => b.backupId)).toEqual(plan.deleted.map((b) => b.backupId));
    expect(done.failed).toEqual([]);
    expect(progress[0]).toBe(`${clusterId}: 3 of 8 backups older than 2026-11-05T00:00:00.000Z to delete`);

    const after = await describeAllBackups(client, { Filters: { clusterIds: [clusterId] }, SortAscending: true });
    expect(after.filter((b) => b.BackupState === 'PENDING_DELETION').map((b) => b.BackupId)).toEqual(plan.deleted.map((b) => b.backupId));
    expect(after.filter((b) => b.BackupState === 'READY')).toHaveLength(5);

    // Everything older than now: the newest backup still stays.
    const rest = await sut.execute({ clusterId, olderThan: localAws.clock.now(), dryRun: false });
    expect(rest.kept.find((k) => k.reason === 'newest-backup-of-cluster')?.backup.backupId).toBe(all[7]!.BackupId);
    expect(await describeAllBackups(client, { Filters: { clusterIds: [clusterId], states: ['READY'] } })).toHaveLength(2);
  });
});

import { CloudHsmV2Emulator } from '../cloudhsm-v2/cloudhsm-v2.emulator';
import { INSTANT_TIMINGS, emptyCloudHsmV2State } from '../cloudhsm-v2/cloudhsm-v2.model';
import { AdjustableClock } from '../protocol/clock';
import { CloudHsmCli } from './cloudhsm-cli';
import type { HsmChange } from './hsm-change';

const REGION = 'us-east-1';
const admin = { CLOUDHSM_ROLE: 'admin', CLOUDHSM_PIN: 'admin:Admin-Pass-1' };
const alice = { CLOUDHSM_ROLE: 'crypto-user', CLOUDHSM_PIN: 'alice:alice-pass' };

/** Restoring from a backup brings users and keys; key replicate works between clones only. */
describe('restore and key replicate', () => {
  let changes: HsmChange[];
  let hsm: CloudHsmV2Emulator;
  let sut: CloudHsmCli;
  const run = (args: string[], env: Record<string, string | undefined> = {}) => JSON.parse(sut.run({ argv: args, env }).stdout) as { error_code: number; data: unknown };

  async function activeCluster(sourceBackupId?: string): Promise<string> {
    const id = (hsm.createCluster(REGION, { HsmType: 'hsm2m.medium', SubnetIds: ['subnet-0a1b2c3d'], ...(sourceBackupId ? { SourceBackupId: sourceBackupId } : {}) }) as {
      Cluster: { ClusterId: string };
    }).Cluster.ClusterId;
    await hsm.createHsm(REGION, { ClusterId: id, AvailabilityZone: `${REGION}a` });
    if (!sourceBackupId) {
      hsm.markInitialized(REGION, id);
      hsm.activate(REGION, id, 'Admin-Pass-1');
    }
    return id;
  }

  const newestBackup = (clusterId: string) =>
    (hsm.describeBackups(REGION, { Filters: { clusterIds: [clusterId] } }) as { Backups: { BackupId: string }[] }).Backups[0]!.BackupId;

  beforeEach(() => {
    changes = [];
    const listener = { apply: (change: HsmChange) => void changes.push(change) };
    hsm = new CloudHsmV2Emulator(emptyCloudHsmV2State(), new AdjustableClock(), '111122223333', INSTANT_TIMINGS, { hsmsPerRegion: 20 }, listener);
    sut = new CloudHsmCli(hsm, () => undefined, listener);
  });

  it('gives a cluster restored from a backup the same users, passwords and keys, in tokens of its own', async () => {
    const a = await activeCluster();
    run(['user', 'create', '--username', 'alice', '--role', 'crypto-user', '--password', 'alice-pass', '--cluster-id', a], admin);
    run(['key', 'generate-symmetric', 'aes', '--label', 'k1', '--key-length-bytes', '32', '--cluster-id', a], alice);
    hsm.deleteHsm(REGION, { ClusterId: a, HsmId: (hsm.describeClusters(REGION, {}) as { Clusters: { Hsms: { HsmId: string }[] }[] }).Clusters[0]!.Hsms[0]!.HsmId });
    changes = [];
    const b = await activeCluster(newestBackup(a));
    expect(changes.map((c) => `${c.kind}:${c.clusterId === b ? 'b' : 'a'}:${'username' in c ? c.username : ''}`)).toEqual([
      'user-created:b:alice',
      'key-available:b:alice',
    ]);
    expect(changes[0]).toMatchObject({ password: 'alice-pass' });
    const listed = run(['key', 'list', '--cluster-id', b], alice).data as { matched_keys: { attributes: { label: string } }[] };
    expect(listed.matched_keys.map((k) => k.attributes.label)).toEqual(['k1']);
  });

  it('replicates a key created after the backup to the clone, and refuses a cluster of another lineage', async () => {
    const a = await activeCluster();
    run(['user', 'create', '--username', 'alice', '--role', 'crypto-user', '--password', 'alice-pass', '--cluster-id', a], admin);
    hsm.modifyBackupAttributes(REGION, { BackupId: newestBackup(a), NeverExpires: true });
    const hsmId = (hsm.describeClusters(REGION, { Filters: { clusterIds: [a] } }) as { Clusters: { Hsms: { HsmId: string }[] }[] }).Clusters[0]!.Hsms[0]!.HsmId;
    hsm.deleteHsm(REGION, { ClusterId: a, HsmId: hsmId });
    await hsm.createHsm(REGION, { ClusterId: a, AvailabilityZone: `${REGION}a` });
    const b = await activeCluster(newestBackup(a));
    run(['key', 'generate-symmetric', 'aes', '--label', 'late', '--key-length-bytes', '16', '--cluster-id', a], alice);
    const replicate = (destination: string) =>
      run(['key', 'replicate', '--filter', 'attr.label=late', '--source-cluster-id', a, '--destination-cluster-id', destination], {
        ...alice,
        DESTINATION_CLOUDHSM_ROLE: 'crypto-user',
        DESTINATION_CLOUDHSM_PIN: 'alice:alice-pass',
      });
    const done = replicate(b);
    expect(done).toMatchObject({ error_code: 0, data: { message: 'Successfully replicated key', key: { attributes: { label: 'late' } } } });
    expect(changes.at(-1)).toMatchObject({ kind: 'key-available', clusterId: b, username: 'alice' });
    expect(replicate(b).data).toMatch(/already exists on the destination cluster/);

    const stranger = await activeCluster();
    run(['user', 'create', '--username', 'alice', '--role', 'crypto-user', '--password', 'alice-pass', '--cluster-id', stranger], admin);
    expect(replicate(stranger)).toEqual({ error_code: 1, data: 'Key replicate failed: the destination cluster is not a clone of the source cluster' });
  });
});

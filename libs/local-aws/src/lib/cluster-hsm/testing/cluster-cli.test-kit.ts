// Set-up shared by the cloudhsm-cli specs: an activated hsm2m cluster with crypto users
// alice and bob, and the CLI over it (changes offered to the given listener).
import { CloudHsmV2Emulator } from '../../cloudhsm-v2/cloudhsm-v2.emulator';
import { INSTANT_TIMINGS, emptyCloudHsmV2State } from '../../cloudhsm-v2/cloudhsm-v2.model';
import { AdjustableClock } from '../../protocol/clock';
import { CloudHsmCli } from '../cloudhsm-cli';
import type { HsmChangeListener } from '../hsm-change';

export const REGION = 'us-east-1';
export const ADMIN = { CLOUDHSM_ROLE: 'admin', CLOUDHSM_PIN: 'admin:Admin-Pass-1' };
export const ALICE = { CLOUDHSM_ROLE: 'crypto-user', CLOUDHSM_PIN: 'alice:alice-pass' };
export const BOB = { CLOUDHSM_ROLE: 'crypto-user', CLOUDHSM_PIN: 'bob:bob-pass-1' };

/** An hsm2m cluster with one ACTIVE HSM, INITIALIZED (not yet activated). */
export async function initializedCluster(): Promise<{ hsm: CloudHsmV2Emulator; clusterId: string }> {
  const hsm = new CloudHsmV2Emulator(emptyCloudHsmV2State(), new AdjustableClock(), '111122223333', INSTANT_TIMINGS);
  const clusterId = (hsm.createCluster(REGION, { HsmType: 'hsm2m.medium', SubnetIds: ['subnet-0a1b2c3d'] }) as { Cluster: { ClusterId: string } }).Cluster.ClusterId;
  await hsm.createHsm(REGION, { ClusterId: clusterId, AvailabilityZone: `${REGION}a` });
  hsm.markInitialized(REGION, clusterId);
  return { hsm, clusterId };
}

/** The cluster activated (admin password Admin-Pass-1) with crypto users alice and bob. */
export async function clusterWithUsers(listener?: HsmChangeListener): Promise<{ hsm: CloudHsmV2Emulator; clusterId: string; cli: CloudHsmCli }> {
  const { hsm, clusterId } = await initializedCluster();
  const cli = new CloudHsmCli(hsm, () => undefined, listener);
  const must = (argv: string[], env: Record<string, string>) => {
    const result = cli.run({ argv, env });
    if (result.exitCode !== 0) throw new Error(`set-up failed: ${argv.join(' ')}: ${result.stdout}`);
  };
  must(['cluster', 'activate', '--password', 'Admin-Pass-1'], {});
  must(['user', 'create', '--username', 'alice', '--role', 'crypto-user', '--password', 'alice-pass'], ADMIN);
  must(['user', 'create', '--username', 'bob', '--role', 'crypto-user', '--password', 'bob-pass-1'], ADMIN);
  return { hsm, clusterId, cli };
}

import { randomBytes } from 'node:crypto';
import type { LocalAws } from './local-aws';

/** The tag that marks the demo estate, so seeding is idempotent. */
export const DEMO_TAG = { Key: 'keyfleet:estate', Value: 'demo' } as const;

export interface DemoEstate {
  readonly region: string;
  readonly clusterId: string;
  readonly created: boolean;
  /** Secrets Manager names (same region) holding `{"username","password"}` of each user. */
  readonly credentials: readonly string[];
}

/** The crypto users of the demo estate: two, so dual-user credential rotation can be shown. */
export const DEMO_CRYPTO_USERS = ['app_blue', 'app_green'] as const;

export function demoSecretName(clusterId: string, username: string): string {
  return `keyfleet/cloudhsm/${clusterId}/${username}`;
}

interface ClusterView {
  ClusterId: string;
  TagList?: { Key: string; Value: string }[];
}

/**
 * A ready estate to try keyfleet on: an ACTIVE hsm1.medium FIPS cluster with two HSMs in
 * different zones (the starting point of the hsm1 -> hsm2m migration), an admin, two
 * crypto users whose passwords are in the local Secrets Manager, and a few keys of
 * app_blue's (`demo-aes` shared with app_green, the `demo-signing` EC pair, and
 * `legacy-3des`, a 3DES key from before FIPS mode refused them). Created through the
 * emulator's own operations, its work completed at once whatever the configured timings;
 * left as it is when it already exists.
 */
export async function seedDemoEstate(localAws: LocalAws, region = 'us-east-1'): Promise<DemoEstate> {
  const hsm = localAws.cloudHsm;
  const { Clusters } = hsm.describeClusters(region, {}) as { Clusters: ClusterView[] };
  const existing = Clusters.find((c) => c.TagList?.some((t) => t.Key === DEMO_TAG.Key && t.Value === DEMO_TAG.Value));
  const usernames = ['admin', ...DEMO_CRYPTO_USERS];
  if (existing) {
    return { region, clusterId: existing.ClusterId, created: false, credentials: usernames.map((u) => demoSecretName(existing.ClusterId, u)) };
  }
  const { Cluster } = hsm.createCluster(region, {
    HsmType: 'hsm1.medium',
    Mode: 'FIPS',
    SubnetIds: ['subnet-0d3e0a1b2c3d4e5f6', 'subnet-1d3e0a1b2c3d4e5f6'],
    TagList: [{ ...DEMO_TAG }, { Key: 'Name', Value: 'keyfleet demo (hsm1.medium, FIPS)' }],
  }) as { Cluster: ClusterView };
  hsm.completeNow(region, Cluster.ClusterId);
  for (const zone of [`${region}a`, `${region}b`]) await hsm.createHsm(region, { ClusterId: Cluster.ClusterId, AvailabilityZone: zone });
  hsm.completeNow(region, Cluster.ClusterId);
  hsm.markInitialized(region, Cluster.ClusterId);
  // Passwords are random and live only in the (local) secret store, as keyfleet expects them.
  const passwords = new Map(usernames.map((u) => [u, randomBytes(12).toString('base64url')]));
  const store = (username: string) =>
    localAws.secretsManager.createSecret(region, {
      Name: demoSecretName(Cluster.ClusterId, username),
      SecretString: JSON.stringify({ username, password: passwords.get(username) }),
      Description: `cloudhsm-local demo estate: ${username} of ${Cluster.ClusterId}`,
    });
  hsm.activate(region, Cluster.ClusterId, passwords.get('admin'));
  store('admin');
  const admin = { CLOUDHSM_ROLE: 'admin', CLOUDHSM_PIN: `admin:${passwords.get('admin') ?? ''}` };
  for (const username of DEMO_CRYPTO_USERS) {
    const created = localAws.cli.run({
      argv: ['user', 'create', '--username', username, '--role', 'crypto-user', '--password', passwords.get(username) ?? '', '--cluster-id', Cluster.ClusterId],
      env: admin,
    });
    if (created.exitCode !== 0) throw new Error(`demo estate: creating ${username} failed: ${created.stdout}`);
    store(username);
  }
  // A few keys owned by app_blue: an AES key shared with app_green and an EC signing pair.
  const blue = { CLOUDHSM_ROLE: 'crypto-user', CLOUDHSM_PIN: `app_blue:${passwords.get('app_blue') ?? ''}` };
  for (const argv of [
    ['key', 'generate-symmetric', 'aes', '--label', 'demo-aes', '--key-length-bytes', '32', '--attributes', 'encrypt=true', 'decrypt=true', '--share-crypto-users', 'app_green'],
    ['key', 'generate-asymmetric-pair', 'ec', '--curve', 'secp256r1', '--public-label', 'demo-signing-pub', '--private-label', 'demo-signing', '--private-attributes', 'sign=true', '--public-attributes', 'verify=true'],
  ]) {
    const made = localAws.cli.run({ argv: [...argv, '--cluster-id', Cluster.ClusterId], env: blue });
    if (made.exitCode !== 0) throw new Error(`demo estate: ${argv.slice(0, 3).join(' ')} failed: ${made.stdout}`);
  }
  // A legacy 3DES key, the reason FIPS hsm1 estates migrate some keys to a NON_FIPS cluster.
  localAws.cli.seedLegacyDes3Key(Cluster.ClusterId, 'app_blue', 'legacy-3des');
  localAws.save();
  return { region, clusterId: Cluster.ClusterId, created: true, credentials: usernames.map((u) => demoSecretName(Cluster.ClusterId, u)) };
}

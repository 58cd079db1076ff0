import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REALISTIC_TIMINGS } from './cloudhsm-v2/cloudhsm-v2.model';
import { seedDemoEstate } from './demo-estate';
import { LocalAws } from './local-aws';

describe(seedDemoEstate.name, () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'demo-estate-'));
  });

  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('creates an active hsm1.medium FIPS cluster with two HSMs in different zones, even with realistic timings', async () => {
    const localAws = new LocalAws({ dataDir, account: '111122223333', timings: REALISTIC_TIMINGS });
    const estate = await seedDemoEstate(localAws);
    expect(estate.created).toBe(true);
    const { Clusters } = localAws.cloudHsm.describeClusters('us-east-1', { Filters: { clusterIds: [estate.clusterId] } }) as {
      Clusters: { State: string; HsmType: string; Mode: string; Hsms: { AvailabilityZone: string; State: string }[] }[];
    };
    expect(Clusters[0]).toMatchObject({ State: 'ACTIVE', HsmType: 'hsm1.medium', Mode: 'FIPS' });
    expect(Clusters[0]?.Hsms.map((h) => [h.AvailabilityZone, h.State])).toEqual([
      ['us-east-1a', 'ACTIVE'],
      ['us-east-1b', 'ACTIVE'],
    ]);
  });

  it('creates an admin and two crypto users whose credentials are in the secret store and log in', async () => {
    const localAws = new LocalAws({ dataDir, account: '111122223333' });
    const estate = await seedDemoEstate(localAws);
    const users = JSON.parse(localAws.cli.run({ argv: ['user', 'list', '--cluster-id', estate.clusterId], env: {} }).stdout) as {
      data: { users: { username: string; role: string }[] };
    };
    expect(users.data.users.map((u) => [u.username, u.role])).toEqual([
      ['admin', 'admin'],
      ['app_blue', 'crypto-user'],
      ['app_green', 'crypto-user'],
    ]);
    const secret = localAws.secretsManager.getSecretValue('us-east-1', { SecretId: estate.credentials[1] });
    const { username, password } = JSON.parse(secret.SecretString ?? '{}') as { username: string; password: string };
    const changed = localAws.cli.run({
      argv: ['user', 'change-password', '--username', username, '--role', 'crypto-user', '--password', 'rotated-pass-1', '--cluster-id', estate.clusterId],
      env: { CLOUDHSM_ROLE: 'crypto-user', CLOUDHSM_PIN: `${username}:${password}` },
    });
    expect(changed.exitCode).toBe(0);
    const green = JSON.parse(
      localAws.cli.run({ argv: ['key', 'list', '--cluster-id', estate.clusterId], env: { CLOUDHSM_ROLE: 'crypto-user', CLOUDHSM_PIN: `app_green:${password}` } }).stdout,
    ) as { error_code: number };
    expect(green.error_code).toBe(1); // app_green's password is not app_blue's
  });

  it('gives app_blue a few keys, one of them shared with app_green', async () => {
    const localAws = new LocalAws({ dataDir, account: '111122223333' });
    const estate = await seedDemoEstate(localAws);
    const secret = localAws.secretsManager.getSecretValue('us-east-1', { SecretId: estate.credentials[2] });
    const { password } = JSON.parse(secret.SecretString ?? '{}') as { password: string };
    const listed = JSON.parse(
      localAws.cli.run({ argv: ['key', 'list', '--cluster-id', estate.clusterId], env: { CLOUDHSM_ROLE: 'crypto-user', CLOUDHSM_PIN: `app_green:${password}` } }).stdout,
    ) as { data: { matched_keys: { attributes: { label: string } }[] } };
    expect(listed.data.matched_keys.map((k) => k.attributes.label)).toEqual(['demo-aes', 'demo-signing-pub']);
  });

  it('is idempotent across restarts', async () => {
    const first = await seedDemoEstate(new LocalAws({ dataDir, account: '111122223333' }));
    const second = await seedDemoEstate(new LocalAws({ dataDir, account: '111122223333' }));
    expect(second).toEqual({ ...first, created: false });
  });
});

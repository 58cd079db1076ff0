import { CloudHsmV2Emulator } from '../cloudhsm-v2/cloudhsm-v2.emulator';
import { INSTANT_TIMINGS, emptyCloudHsmV2State } from '../cloudhsm-v2/cloudhsm-v2.model';
import { AdjustableClock } from '../protocol/clock';
import { CloudHsmCli } from './cloudhsm-cli';
import { ADMIN as admin, REGION, initializedCluster } from './testing/cluster-cli.test-kit';

describe(CloudHsmCli.name, () => {
  let hsm: CloudHsmV2Emulator;
  let clusterId: string;
  let saves: number;
  let sut: CloudHsmCli;
  const run = (args: string, env: Record<string, string> = {}) => {
    const result = sut.run({ argv: args.split(' '), env });
    return { exitCode: result.exitCode, json: JSON.parse(result.stdout) as { error_code: number; data: unknown }, stdout: result.stdout };
  };

  beforeEach(async () => {
    ({ hsm, clusterId } = await initializedCluster());
    saves = 0;
    sut = new CloudHsmCli(hsm, () => (saves += 1));
  });

  it('activates the cluster, setting the admin password, and prints the real envelope', () => {
    const result = run(`cluster activate --password Admin-Pass-1 --cluster-id ${clusterId}`);
    expect(result).toMatchObject({ exitCode: 0, json: { error_code: 0, data: 'Cluster activation successful' } });
    expect(result.stdout).toBe('{\n  "error_code": 0,\n  "data": "Cluster activation successful"\n}\n');
    expect(run('user list').json.data).toEqual({
      users: [{ username: 'admin', role: 'admin', locked: 'false', mfa: [], quorum: [], 'cluster-coverage': 'full' }],
    });
    expect(saves).toBe(2);
  });

  it('lets the admin create crypto users, shown lower case, and refuses duplicates', () => {
    run('cluster activate --password Admin-Pass-1');
    expect(run('user create --username App_1 --role crypto-user --password app-pass-1', admin).json).toEqual({
      error_code: 0,
      data: { username: 'app_1', role: 'crypto-user' },
    });
    expect(run('user create --username app_1 --role crypto-user --password app-pass-1', admin).json).toEqual({ error_code: 1, data: 'User app_1 already exists' });
  });

  it('checks credentials and roles', () => {
    run('cluster activate --password Admin-Pass-1');
    run('user create --username app --role crypto-user --password app-pass-1', admin);
    expect(run('user create --username x --role crypto-user --password 12345678').json.data).toMatch(/needs a logged-in user/);
    expect(run('user create --username x --role crypto-user --password 12345678', { ...admin, CLOUDHSM_PIN: 'admin:wrong-pass' }).json.data).toBe(
      'Login failed: invalid username, role or password',
    );
    const cu = { CLOUDHSM_ROLE: 'crypto-user', CLOUDHSM_PIN: 'app:app-pass-1' };
    expect(run('user create --username x --role crypto-user --password 12345678', cu).json.data).toBe('This operation is not permitted for the crypto-user role');
  });

  it('lets a crypto user change only its own password, and the new one logs in', () => {
    run('cluster activate --password Admin-Pass-1');
    run('user create --username app --role crypto-user --password app-pass-1', admin);
    run('user create --username other --role crypto-user --password other-pass', admin);
    const cu = { CLOUDHSM_ROLE: 'crypto-user', CLOUDHSM_PIN: 'app:app-pass-1' };
    expect(run('user change-password --username other --role crypto-user --password hijacked1', cu).json.data).toBe('A crypto user can change only its own password');
    expect(run('user change-password --username app --role crypto-user --password app-pass-2', cu).exitCode).toBe(0);
    expect(run('user change-password --username app --role crypto-user --password app-pass-3', cu).json.data).toBe('Login failed: invalid username, role or password');
    expect(run('user change-password --username app --role crypto-user --password app-pass-3', { ...cu, CLOUDHSM_PIN: 'app:app-pass-2' }).exitCode).toBe(0);
  });

  it('refuses to change or delete a crypto user that is logged in', () => {
    const loggedIn = new Set<string>(['app']);
    sut = new CloudHsmCli(hsm, () => undefined, undefined, { isLoggedIn: (_cluster, username) => loggedIn.has(username) });
    run('cluster activate --password Admin-Pass-1');
    run('user create --username app --role crypto-user --password app-pass-1', admin);
    expect(run('user change-password --username app --role crypto-user --password app-pass-2', admin).json.data).toBe(
      'User app is logged in: log out all of its sessions before changing its password',
    );
    expect(run('user delete --username app --role crypto-user', admin).json.data).toBe('User app is logged in: log out all of its sessions before deleting it');
    loggedIn.clear();
    expect(run('user change-password --username app --role crypto-user --password app-pass-2', admin).exitCode).toBe(0);
  });

  it('enforces username and password rules', () => {
    run('cluster activate --password Admin-Pass-1');
    expect(run('user create --username bad-name --role crypto-user --password app-pass-1', admin).json.data).toBe('Invalid username: use 1-31 letters, digits or underscores');
    expect(run('user create --username ok --role crypto-user --password short', admin).json.data).toBe('Invalid password: it must be 8 to 32 characters');
    expect(run('user create --username ok --role officer --password app-pass-1', admin).json.data).toMatch(/expected admin or crypto-user/);
  });

  it('refuses user changes in limited-write mode during a migration', async () => {
    // Migration steps take a minute each here, so the cluster stays MODIFY_IN_PROGRESS.
    hsm = new CloudHsmV2Emulator(emptyCloudHsmV2State(), new AdjustableClock(), '111122223333', { ...INSTANT_TIMINGS, migrationStepMs: 60_000 });
    sut = new CloudHsmCli(hsm, () => undefined);
    const hsm1 = (hsm.createCluster(REGION, { HsmType: 'hsm1.medium', SubnetIds: ['subnet-0a1b2c3d'] }) as { Cluster: { ClusterId: string } }).Cluster.ClusterId;
    await hsm.createHsm(REGION, { ClusterId: hsm1, AvailabilityZone: `${REGION}a` });
    hsm.markInitialized(REGION, hsm1);
    run('cluster activate --password Admin-Pass-1');
    hsm.modifyCluster(REGION, { ClusterId: hsm1, HsmType: 'hsm2m.medium' });
    expect(run('user create --username app --role crypto-user --password app-pass-1', admin).json).toEqual({
      error_code: 1,
      data: 'The cluster is in limited-write mode during an HSM type migration: this operation is not allowed',
    });
    expect(run('user list').exitCode).toBe(0);
  });

  it('asks for --cluster-id when several clusters are configured', async () => {
    run('cluster activate --password Admin-Pass-1');
    const second = (hsm.createCluster(REGION, { HsmType: 'hsm2m.medium', SubnetIds: ['subnet-0a1b2c3d'] }) as { Cluster: { ClusterId: string } }).Cluster.ClusterId;
    await hsm.createHsm(REGION, { ClusterId: second, AvailabilityZone: `${REGION}a` });
    expect(run('user list').json).toEqual({ error_code: 1, data: 'Multiple clusters are configured: select one with --cluster-id' });
    expect(run(`user list --cluster-id ${second}`).exitCode).toBe(0);
  });
});

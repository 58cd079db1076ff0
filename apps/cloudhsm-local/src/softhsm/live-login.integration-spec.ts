import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LoginMarker } from '@keyfleet/hsm';
import { builtEntry, freePort, runToExit, startService, type ServiceProcess } from '@keyfleet/testing';

/**
 * CloudHSM refuses a crypto user's password change while that user is logged in. SoftHSM2
 * cannot see other processes' sessions, so PKCS#11 clients leave login markers and
 * cloudhsm-local reads them: this process plays the logged-in application.
 */
describe('password change while the crypto user is logged in elsewhere', () => {
  let dataDir: string;
  let sut: ServiceProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cloudhsm-logins-'));
    sut = await startService({
      entry: builtEntry('cloudhsm-local'),
      env: {
        PATH: process.env['PATH'],
        CLOUDHSM_LOCAL_DATA_DIR: join(dataDir, 'state'),
        CLOUDHSM_LOCAL_LOGIN_DIR: join(dataDir, 'logins'),
        CLOUDHSM_LOCAL_DEMO_ESTATE: 'us-west-2',
        LOG_LEVEL: 'warn',
      },
      port: await freePort(),
    });
  });

  afterAll(async () => {
    await sut.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is refused while a login marker of a live process exists, and allowed after logout', async () => {
    const estate = (await (await fetch(`${sut.url}/admin/estate`)).json()) as { clusterId: string; credentials: string[] };
    const sm = new SecretsManagerClient({ endpoint: sut.url, region: 'us-west-2', credentials: { accessKeyId: 'A', secretAccessKey: 'B' } });
    const { password } = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: estate.credentials[1] }))).SecretString ?? '{}') as { password: string };
    const changePassword = () =>
      runToExit(
        join(dirname(builtEntry('cloudhsm-local')), 'cli/cloudhsm-cli.main.js'),
        ['user', 'change-password', '--username', 'app_blue', '--role', 'crypto-user', '--password', 'blue-new-pass', '--cluster-id', estate.clusterId],
        { PATH: process.env['PATH'], CLOUDHSM_LOCAL_ENDPOINT: sut.url, CLOUDHSM_ROLE: 'crypto-user', CLOUDHSM_PIN: `app_blue:${password}` },
      );

    const marker = new LoginMarker(join(dataDir, 'logins'), `${estate.clusterId}/app_blue`);
    marker.mark();
    const refused = await changePassword();
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.output)).toEqual({
      error_code: 1,
      data: 'User app_blue is logged in: log out all of its sessions before changing its password',
    });

    marker.clear();
    expect((await changePassword()).code).toBe(0);
  });
});

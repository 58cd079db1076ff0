import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateHsmCommand } from '@aws-sdk/client-cloudhsm-v2';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createCloudHsmV2Client, createCluster, describeAllClusters } from '@keyfleet/aws';
import { builtEntry, freePort, runToExit, startService, type ServiceProcess } from '@keyfleet/testing';

/** The cloudhsm-local process as services see it: one endpoint, real SDK clients, state kept across restarts. */
describe('cloudhsm-local process', () => {
  let dataDir: string;
  let port: number;
  let sut: ServiceProcess;
  const start = (extra: NodeJS.ProcessEnv = {}) =>
    startService({
      entry: builtEntry('cloudhsm-local'),
      env: { PATH: process.env['PATH'], CLOUDHSM_LOCAL_DATA_DIR: dataDir, CLOUDHSM_LOCAL_TIMINGS: 'realistic', LOG_LEVEL: 'warn', ...extra },
      port,
    });
  const config = () => ({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const advance = async (ms: number) => {
    const res = await fetch(`${sut.url}/admin/clock/advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ms }) });
    expect(res.status).toBe(200);
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cloudhsm-local-it-'));
    port = await freePort();
    sut = await start();
  });

  afterAll(async () => {
    await sut.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves CloudHSMv2 and Secrets Manager on one endpoint, with realistic timings driven by the admin clock', async () => {
    const hsm = createCloudHsmV2Client(config());
    const cluster = await createCluster(hsm, { HsmType: 'hsm2m.medium', SubnetIds: ['subnet-0a1b2c3d'], Mode: 'NON_FIPS' });
    expect(cluster.State).toBe('CREATE_IN_PROGRESS');
    await advance(3 * 60_000);
    await hsm.send(new CreateHsmCommand({ ClusterId: cluster.ClusterId!, AvailabilityZone: 'us-east-1a' }));
    await advance(8 * 60_000);
    const [described] = await describeAllClusters(hsm, { clusterIds: [cluster.ClusterId!] });
    expect(described).toMatchObject({ State: 'UNINITIALIZED', Mode: 'NON_FIPS' });
    expect(described?.Hsms?.[0]?.State).toBe('ACTIVE');

    const sm = new SecretsManagerClient(config());
    await sm.send(new CreateSecretCommand({ Name: 'keyfleet/cu/app', SecretString: 'app:password-1' }));
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'keyfleet/cu/app' }))).SecretString).toBe('app:password-1');
  });

  it('keeps its state and its clock across a restart', async () => {
    const before = (await (await fetch(`${sut.url}/admin/clock`)).json()) as { offsetMs: number };
    expect((await sut.stop()).code).toBe(0);
    sut = await start();
    const after = (await (await fetch(`${sut.url}/admin/clock`)).json()) as { offsetMs: number };
    expect(after.offsetMs).toBe(before.offsetMs);
    expect(await describeAllClusters(createCloudHsmV2Client(config()))).toHaveLength(1);

    const sm = new SecretsManagerClient(config());
    expect((await sm.send(new GetSecretValueCommand({ SecretId: 'keyfleet/cu/app' }))).SecretString).toBe('app:password-1');
  });

  it('fails a cluster\'s API calls on demand, and only that cluster\'s', async () => {
    const hsm = createCloudHsmV2Client(config());
    const [faulty] = await describeAllClusters(hsm);
    const healthy = await createCluster(hsm, { HsmType: 'hsm2m.medium', SubnetIds: ['subnet-0a1b2c3d'] });
    const post = (body: unknown) => fetch(`${sut.url}/admin/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post({ target: 'BaldrApiService', clusterId: faulty!.ClusterId, errorRate: 1 })).status).toBe(200);
    await expect(describeAllClusters(hsm, { clusterIds: [faulty!.ClusterId!] })).rejects.toMatchObject({
      name: 'CloudHsmInternalFailureException',
      $metadata: { httpStatusCode: 500 },
    });
    await expect(describeAllClusters(hsm, { clusterIds: [healthy.ClusterId!] })).resolves.toHaveLength(1);
    expect((await post({ target: 'Nope' })).status).toBe(400);
    expect((await fetch(`${sut.url}/admin/faults`, { method: 'DELETE' })).status).toBe(200);
    await expect(describeAllClusters(hsm, { clusterIds: [faulty!.ClusterId!] })).resolves.toHaveLength(1);
  });

  it('seeds the demo estate when asked: an ACTIVE hsm1.medium FIPS cluster with two HSMs in two zones', async () => {
    expect((await fetch(`${sut.url}/admin/estate`)).status).toBe(404);
    await sut.stop();
    sut = await start({ CLOUDHSM_LOCAL_DEMO_ESTATE: 'us-east-1' });
    const estate = (await (await fetch(`${sut.url}/admin/estate`)).json()) as { clusterId: string; created: boolean };
    expect(estate.created).toBe(true);
    const [cluster] = await describeAllClusters(createCloudHsmV2Client(config()), { clusterIds: [estate.clusterId] });
    expect(cluster).toMatchObject({ State: 'ACTIVE', HsmType: 'hsm1.medium', Mode: 'FIPS' });
    expect(new Set(cluster?.Hsms?.map((h) => h.AvailabilityZone))).toEqual(new Set(['us-east-1a', 'us-east-1b']));
  });

  it('runs cloudhsm-cli commands from the executable, with the real envelope and exit codes', async () => {
    const estate = (await (await fetch(`${sut.url}/admin/estate`)).json()) as { clusterId: string; credentials: string[] };
    const cli = join(dirname(builtEntry('cloudhsm-local')), 'cli/cloudhsm-cli.main.js');
    const env = (extra: NodeJS.ProcessEnv = {}) => ({ PATH: process.env['PATH'], CLOUDHSM_LOCAL_ENDPOINT: sut.url, ...extra });
    const list = await runToExit(cli, ['user', 'list', '--cluster-id', estate.clusterId], env());
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.output) as { error_code: number; data: { users: { username: string }[] } };
    expect(listed.error_code).toBe(0);
    expect(listed.data.users.map((u) => u.username)).toEqual(['admin', 'app_blue', 'app_green']);

    const sm = new SecretsManagerClient(config());
    const admin = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: estate.credentials[0] }))).SecretString ?? '{}') as { password: string };
    const create = ['user', 'create', '--username', 'app_red', '--role', 'crypto-user', '--password', 'red-pass-12', '--cluster-id', estate.clusterId];
    const created = await runToExit(cli, create, env({ CLOUDHSM_ROLE: 'admin', CLOUDHSM_PIN: `admin:${admin.password}` }));
    expect(created).toMatchObject({ code: 0, output: '{\n  "error_code": 0,\n  "data": {\n    "username": "app_red",\n    "role": "crypto-user"\n  }\n}\n' });
    const refused = await runToExit(cli, create, env({ CLOUDHSM_ROLE: 'admin', CLOUDHSM_PIN: 'admin:wrong-password' }));
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.output)).toEqual({ error_code: 1, data: 'Login failed: invalid username, role or password' });
    expect(refused.output).not.toContain('wrong-password');

    // --data-path names a file on the caller's machine: the executable sends its content.
    const blue = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: estate.credentials[1] }))).SecretString ?? '{}') as { password: string };
    const asBlue = env({ CLOUDHSM_ROLE: 'crypto-user', CLOUDHSM_PIN: `app_blue:${blue.password}` });
    const pair = ['key', 'generate-asymmetric-pair', 'ec', '--curve', 'secp384r1', '--public-label', 'doc-pub', '--private-label', 'doc-priv', '--private-attributes', 'sign=true'];
    expect((await runToExit(cli, [...pair, '--cluster-id', estate.clusterId], asBlue)).code).toBe(0);
    const file = join(dataDir, 'document.txt');
    writeFileSync(file, 'contract v7');
    const signArgs = ['crypto', 'sign', 'ecdsa', '--key-filter', 'attr.label=doc-priv', '--hash-function', 'sha384', '--data-path', file, '--cluster-id', estate.clusterId];
    const signed = await runToExit(cli, signArgs, asBlue);
    const { signature } = (JSON.parse(signed.output) as { data: { signature: string } }).data;
    const verifyArgs = ['crypto', 'verify', 'ecdsa', '--key-filter', 'attr.label=doc-pub', '--hash-function', 'sha384', '--data-path', file, '--signature', signature];
    const verified = await runToExit(cli, [...verifyArgs, '--cluster-id', estate.clusterId], asBlue);
    expect(JSON.parse(verified.output)).toEqual({ error_code: 0, data: { message: 'Signature verified successfully' } });

    // key generate-file writes the public key on this machine; outside the HSM it verifies the signature.
    const pemFile = join(dataDir, 'doc-pub.pem');
    const written = await runToExit(cli, ['key', 'generate-file', '--encoding', 'pem', '--path', pemFile, '--filter', 'attr.label=doc-pub', '--cluster-id', estate.clusterId], asBlue);
    expect(JSON.parse(written.output)).toEqual({ error_code: 0, data: { message: 'Successfully generated key file' } });
    const publicKey = createPublicKey(readFileSync(pemFile));
    expect(publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    expect(nodeVerify('sha384', Buffer.from('contract v7'), { key: publicKey, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64'))).toBe(true);
    const privateRefused = await runToExit(cli, ['key', 'generate-file', '--encoding', 'pem', '--path', pemFile, '--filter', 'attr.label=doc-priv', '--cluster-id', estate.clusterId], asBlue);
    expect(JSON.parse(privateRefused.output)).toEqual({ error_code: 1, data: 'Only public keys can be written as pem: private keys stay in the HSM' });
  });

  it('refuses a bad admin request with a reason', async () => {
    const res = await fetch(`${sut.url}/admin/clock/advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"ms":-5}' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ message: 'ms: expected an integer number of milliseconds, 0 to 400 days' });
  });
});

import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as pkcs11js from 'pkcs11js';
import { CreateHsmCommand, DeleteHsmCommand } from '@aws-sdk/client-cloudhsm-v2';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createCloudHsmV2Client, createCluster, describeAllBackups, describeAllClusters } from '@keyfleet/aws';
import { loadIsolatedModule } from '@keyfleet/hsm';
import { builtEntry, deleteClusterTokens, freePort, infraEnv, runToExit, startService, type ServiceProcess } from '@keyfleet/testing';

const RW = pkcs11js.CKF_RW_SESSION | pkcs11js.CKF_SERIAL_SESSION;
// PKCS#11 2.40's value for a refused C_DestroyObject of a CKA_DESTROYABLE=false object; pkcs11js has no constant for it.
const CKR_ACTION_PROHIBITED = 0x1b;

/** The CKR_* value a PKCS#11 call fails with (0 if it succeeds). */
function ckr(call: () => unknown): number {
  try {
    call();
    return 0;
  } catch (err) {
    if (err instanceof pkcs11js.Pkcs11Error) return err.code;
    // pkcs11js passes C_SetAttributeValue's native error through unwrapped (an Error of the addon's
    // realm, not of jest's): the value is only in its message.
    const native = typeof err === 'object' && err !== null && 'message' in err ? /^CKR_\w+:(\d+)/.exec(String(err.message)) : null;
    if (native?.[1]) return Number(native[1]);
    throw err;
  }
}

/**
 * Keys made with cloudhsm-cli are real PKCS#11 objects another process uses: the owner
 * encrypts in its token, the sharee decrypts with its copy, others do not see it, and a
 * password change is the token's new PIN.
 */
describe('cloudhsm-local mirrors crypto users and keys into SoftHSM2', () => {
  let dataDir: string;
  let sut: ServiceProcess;
  let clusterId: string;
  let passwords: Record<string, string>;
  const clusters: string[] = [];
  const cli = (args: string[], user: string) =>
    runToExit(join(dirname(builtEntry('cloudhsm-local')), 'cli/cloudhsm-cli.main.js'), [...args, '--cluster-id', clusterId], {
      PATH: process.env['PATH'],
      CLOUDHSM_LOCAL_ENDPOINT: sut.url,
      CLOUDHSM_ROLE: 'crypto-user',
      CLOUDHSM_PIN: `${user}:${passwords[user] ?? ''}`,
    });
  /** A fresh library instance in this process, as an application would have. */
  const library = () => {
    const { module } = loadIsolatedModule(infraEnv('PKCS11_MODULE'), join(dataDir, 'client-modules'));
    module.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    return module;
  };
  const login = (module: pkcs11js.PKCS11, user: string, pin: string, cluster = clusterId) => {
    const slot = module.C_GetSlotList(true).find((s) => module.C_GetTokenInfo(s).label.trim() === `${cluster}/${user}`);
    if (!slot) throw new Error(`no token for ${user}`);
    const session = module.C_OpenSession(slot, RW);
    module.C_Login(session, pkcs11js.CKU_USER, pin);
    return session;
  };
  const find = (module: pkcs11js.PKCS11, session: Buffer, label: string) => {
    module.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: label }]);
    const found = module.C_FindObjects(session, 5);
    module.C_FindObjectsFinal(session);
    return found;
  };
  const gcm = (iv: Buffer) => ({ mechanism: pkcs11js.CKM_AES_GCM, parameter: { type: pkcs11js.CK_PARAMS_GCM, iv, ivBits: 96, tagBits: 128 } as pkcs11js.GcmParams });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cloudhsm-softhsm-it-'));
    sut = await startService({
      entry: builtEntry('cloudhsm-local'),
      env: {
        PATH: process.env['PATH'],
        CLOUDHSM_LOCAL_DATA_DIR: dataDir,
        CLOUDHSM_LOCAL_SOFTHSM: 'on',
        SOFTHSM2_CONF: infraEnv('SOFTHSM2_CONF'),
        PKCS11_MODULE: infraEnv('PKCS11_MODULE'),
        CLOUDHSM_LOCAL_DEMO_ESTATE: 'eu-north-1',
        LOG_LEVEL: 'warn',
      },
      port: await freePort(),
    });
    const estate = (await (await fetch(`${sut.url}/admin/estate`)).json()) as { clusterId: string; credentials: string[] };
    clusterId = estate.clusterId;
    clusters.push(clusterId);
    const sm = new SecretsManagerClient({ endpoint: sut.url, region: 'eu-north-1', credentials: { accessKeyId: 'A', secretAccessKey: 'B' } });
    passwords = {};
    for (const name of estate.credentials) {
      const { username, password } = JSON.parse((await sm.send(new GetSecretValueCommand({ SecretId: name }))).SecretString ?? '{}') as {
        username: string;
        password: string;
      };
      passwords[username] = password;
    }
  });

  afterAll(async () => {
    await sut.stop();
    // Remove every token of the clusters this suite made (the server keeps them otherwise).
    deleteClusterTokens(clusters);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lets the owner encrypt and the sharee decrypt, in another process, with the keys cloudhsm-cli made', async () => {
    const made = await cli(
      ['key', 'generate-symmetric', 'aes', '--label', 'orders/v1', '--key-length-bytes', '32', '--attributes', 'encrypt=true', 'decrypt=true', '--share-crypto-users', 'app_green'],
      'app_blue',
    );
    expect(made.code).toBe(0);
    const kek = await cli(['key', 'generate-symmetric', 'aes', '--label', 'green-kek', '--key-length-bytes', '32', '--attributes', 'wrap=true'], 'app_green');
    expect(kek.code).toBe(0);
    const module = library();
    try {
      const blue = login(module, 'app_blue', passwords['app_blue']!);
      const [ownerKey] = find(module, blue, 'orders/v1');
      const iv = randomBytes(12);
      module.C_EncryptInit(blue, gcm(iv), ownerKey!);
      const ciphertext = module.C_Encrypt(blue, Buffer.from('order #1'), Buffer.alloc(64));

      const green = login(module, 'app_green', passwords['app_green']!);
      const [sharedCopy] = find(module, green, 'orders/v1');
      module.C_DecryptInit(green, gcm(iv), sharedCopy!);
      expect(module.C_Decrypt(green, ciphertext, Buffer.alloc(64)).toString()).toBe('order #1');
      // The sharee's copy is usable but not exportable or wrappable: C_WrapKey refuses it.
      const [extractable, wrap] = module.C_GetAttributeValue(green, sharedCopy!, [{ type: pkcs11js.CKA_EXTRACTABLE }, { type: pkcs11js.CKA_WRAP }]);
      expect([extractable?.value, wrap?.value]).toEqual([Buffer.from([0]), Buffer.from([0])]);
      const [kek] = find(module, green, 'green-kek');
      expect(() => module.C_WrapKey(green, { mechanism: pkcs11js.CKM_AES_KEY_WRAP_PAD }, kek!, sharedCopy!, Buffer.alloc(128))).toThrow(/CKR_KEY_UNEXTRACTABLE/);
    } finally {
      module.C_Finalize();
    }
  });

  it('removes the sharee\'s copy on unshare and keeps other users\' tokens apart', async () => {
    await cli(['key', 'generate-symmetric', 'aes', '--label', 'private/v1', '--key-length-bytes', '16', '--attributes', 'encrypt=true'], 'app_blue');
    expect((await cli(['key', 'unshare', '--filter', 'attr.label=orders/v1', '--username', 'app_green', '--role', 'crypto-user'], 'app_blue')).code).toBe(0);
    const module = library();
    try {
      const green = login(module, 'app_green', passwords['app_green']!);
      expect(find(module, green, 'orders/v1')).toHaveLength(0);
      expect(find(module, green, 'private/v1')).toHaveLength(0);
      expect(find(module, login(module, 'app_blue', passwords['app_blue']!), 'private/v1')).toHaveLength(1);
    } finally {
      module.C_Finalize();
    }
  });

  it('keeps a sharee from destroying its copy through PKCS#11, and still withdraws the copy from a session that has it open', async () => {
    const made = await cli(
      ['key', 'generate-symmetric', 'aes', '--label', 'pinned/v1', '--key-length-bytes', '32', '--attributes', 'encrypt=true', 'decrypt=true', '--share-crypto-users', 'app_green'],
      'app_blue',
    );
    expect(made.code).toBe(0);
    // This process plays an application that keeps both tokens open while cloudhsm-local changes them.
    const module = library();
    try {
      const blue = login(module, 'app_blue', passwords['app_blue']!);
      const green = login(module, 'app_green', passwords['app_green']!);
      const [ownerKey] = find(module, blue, 'pinned/v1');
      const [copy] = find(module, green, 'pinned/v1');
      const [destroyable, modifiable] = module.C_GetAttributeValue(green, copy!, [{ type: pkcs11js.CKA_DESTROYABLE }, { type: pkcs11js.CKA_MODIFIABLE }]);
      expect([destroyable?.value, modifiable?.value]).toEqual([Buffer.from([0]), Buffer.from([0])]);
      expect(ckr(() => module.C_DestroyObject(green, copy!))).toBe(CKR_ACTION_PROHIBITED);
      expect(ckr(() => module.C_SetAttributeValue(green, copy!, [{ type: pkcs11js.CKA_DESTROYABLE, value: true }]))).toBe(CKR_ACTION_PROHIBITED);
      // The copy still works: the sharee decrypts what the owner encrypted.
      const iv = randomBytes(12);
      module.C_EncryptInit(blue, gcm(iv), ownerKey!);
      const ciphertext = module.C_Encrypt(blue, Buffer.from('pinned'), Buffer.alloc(64));
      module.C_DecryptInit(green, gcm(iv), copy!);
      expect(module.C_Decrypt(green, ciphertext, Buffer.alloc(64)).toString()).toBe('pinned');

      // A changed attribute replaces the sharee's copy: the old one is withdrawn although it cannot be destroyed.
      expect((await cli(['key', 'set-attribute', '--filter', 'attr.label=pinned/v1', '--name', 'label', '--value', 'pinned/v2'], 'app_blue')).code).toBe(0);
      expect(find(module, green, 'pinned/v1')).toHaveLength(0);
      expect(ckr(() => module.C_GetAttributeValue(green, copy!, [{ type: pkcs11js.CKA_LABEL }]))).toBe(pkcs11js.CKR_OBJECT_HANDLE_INVALID);
      const [replaced] = find(module, green, 'pinned/v2');
      expect(ckr(() => module.C_DestroyObject(green, replaced!))).toBe(CKR_ACTION_PROHIBITED);

      expect((await cli(['key', 'unshare', '--filter', 'attr.label=pinned/v2', '--username', 'app_green', '--role', 'crypto-user'], 'app_blue')).code).toBe(0);
      expect(find(module, green, 'pinned/v2')).toHaveLength(0);
      expect(ckr(() => module.C_DecryptInit(green, gcm(iv), replaced!))).toBe(pkcs11js.CKR_OBJECT_HANDLE_INVALID);
      const fresh = library();
      try {
        expect(find(fresh, login(fresh, 'app_green', passwords['app_green']!), 'pinned/v2')).toHaveLength(0);
      } finally {
        fresh.C_Finalize();
      }

      // The owner's copy is untouched (and destroyable by its owner), in the session opened before.
      const [ownerNow] = find(module, blue, 'pinned/v2');
      const [ownerDestroyable] = module.C_GetAttributeValue(blue, ownerNow!, [{ type: pkcs11js.CKA_DESTROYABLE }]);
      expect(ownerDestroyable?.value).toEqual(Buffer.from([1]));
      module.C_DecryptInit(blue, gcm(iv), ownerNow!);
      expect(module.C_Decrypt(blue, ciphertext, Buffer.alloc(64)).toString()).toBe('pinned');

      // Shared again, then deleted by the owner: both copies go.
      expect((await cli(['key', 'share', '--filter', 'attr.label=pinned/v2', '--username', 'app_green', '--role', 'crypto-user'], 'app_blue')).code).toBe(0);
      expect(find(module, green, 'pinned/v2')).toHaveLength(1);
      expect((await cli(['key', 'delete', '--filter', 'attr.label=pinned/v2'], 'app_blue')).code).toBe(0);
      expect([find(module, green, 'pinned/v2'), find(module, blue, 'pinned/v2')]).toEqual([[], []]);
    } finally {
      module.C_Finalize();
    }
  });

  it('makes a changed password the token\'s PIN: the new one logs in, the old one no longer does', async () => {
    const changed = await cli(['user', 'change-password', '--username', 'app_blue', '--role', 'crypto-user', '--password', 'blue-rotated-1'], 'app_blue');
    expect(changed.code).toBe(0);
    const old = passwords['app_blue']!;
    passwords['app_blue'] = 'blue-rotated-1';
    const module = library();
    try {
      expect(() => login(module, 'app_blue', old)).toThrow(/CKR_PIN_INCORRECT/);
      expect(find(module, login(module, 'app_blue', 'blue-rotated-1'), 'orders/v1')).toHaveLength(1);
    } finally {
      module.C_Finalize();
    }
  });

  it('gives a cluster restored from a backup tokens with the same keys: encrypt on one, decrypt on the other', async () => {
    const aws = createCloudHsmV2Client({ endpoint: sut.url, region: 'eu-north-1', credentials: { accessKeyId: 'A', secretAccessKey: 'B' }, maxAttempts: 1 });
    // An HSM change backs the cluster up, keys and current passwords included.
    const [cluster] = await describeAllClusters(aws, { clusterIds: [clusterId] });
    await aws.send(new DeleteHsmCommand({ ClusterId: clusterId, HsmId: cluster!.Hsms![1]!.HsmId }));
    const [backup] = await describeAllBackups(aws, { Filters: { clusterIds: [clusterId], states: ['READY'] } });
    const clone = await createCluster(aws, { HsmType: 'hsm2m.medium', SubnetIds: ['subnet-0a1b2c3d'], SourceBackupId: backup!.BackupId });
    clusters.push(clone.ClusterId!);
    await aws.send(new CreateHsmCommand({ ClusterId: clone.ClusterId!, AvailabilityZone: 'eu-north-1a' }));

    const module = library();
    try {
      const original = login(module, 'app_blue', passwords['app_blue']!);
      const [key] = find(module, original, 'orders/v1');
      const iv = randomBytes(12);
      module.C_EncryptInit(original, gcm(iv), key!);
      const ciphertext = module.C_Encrypt(original, Buffer.from('order #2'), Buffer.alloc(64));

      const restored = login(module, 'app_blue', passwords['app_blue']!, clone.ClusterId);
      const [restoredKey] = find(module, restored, 'orders/v1');
      module.C_DecryptInit(restored, gcm(iv), restoredKey!);
      expect(module.C_Decrypt(restored, ciphertext, Buffer.alloc(64)).toString()).toBe('order #2');
    } finally {
      module.C_Finalize();
    }
  });

  it('materialises an EC pair: the owner signs in its token, any crypto user verifies with the public key in theirs', async () => {
    const made = await cli(
      ['key', 'generate-asymmetric-pair', 'ec', '--curve', 'secp256r1', '--public-label', 'release-pub', '--private-label', 'release-priv', '--private-attributes', 'sign=true', '--public-attributes', 'verify=true'],
      'app_blue',
    );
    expect(made.code).toBe(0);
    const point = Buffer.from((JSON.parse(made.output) as { data: { public_key: { attributes: { 'ec-point': string } } } }).data.public_key.attributes['ec-point'].slice(2), 'hex');
    const digest = createHash('sha256').update('release 2026.11').digest();
    const module = library();
    try {
      const blue = login(module, 'app_blue', passwords['app_blue']!);
      const [privateKey] = find(module, blue, 'release-priv');
      module.C_SignInit(blue, { mechanism: pkcs11js.CKM_ECDSA }, privateKey!);
      const signature = module.C_Sign(blue, digest, Buffer.alloc(132));
      const jwk = { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') };
      expect(verify('sha256', Buffer.from('release 2026.11'), { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);

      const green = login(module, 'app_green', passwords['app_green']!);
      expect(find(module, green, 'release-priv')).toHaveLength(0);
      const [publicKey] = find(module, green, 'release-pub');
      module.C_VerifyInit(green, { mechanism: pkcs11js.CKM_ECDSA }, publicKey!);
      expect(module.C_Verify(green, digest, signature)).toBe(true);
    } finally {
      module.C_Finalize();
    }
  });

  it('imports a PEM public key from a file into every crypto user\'s token as an RSA wrapping key', async () => {
    const pemFile = join(dataDir, 'wrapping.pem');
    writeFileSync(pemFile, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }));
    const imported = await cli(['key', 'import', 'pem', '--path', pemFile, '--label', 'kms-wrap', '--key-type-class', 'rsa-public', '--attributes', 'wrap=true'], 'app_blue');
    expect(JSON.parse(imported.output)).toMatchObject({ error_code: 0, data: { key: { attributes: { class: 'public-key', local: false, wrap: true, 'modulus-size-bits': 2048 } } } });
    const module = library();
    try {
      const green = login(module, 'app_green', passwords['app_green']!);
      const [key] = find(module, green, 'kms-wrap');
      const [wrap] = module.C_GetAttributeValue(green, key!, [{ type: pkcs11js.CKA_WRAP }]);
      expect(wrap?.value).toEqual(Buffer.from([1]));
    } finally {
      module.C_Finalize();
    }
  });

  it('materialises an RSA pair: the private key signs in its owner\'s token with its CRT components', async () => {
    const made = await cli(
      ['key', 'generate-asymmetric-pair', 'rsa', '--modulus-size-bits', '2048', '--public-exponent', '65537', '--public-label', 'rsa-pub', '--private-label', 'rsa-priv', '--private-attributes', 'sign=true'],
      'app_blue',
    );
    const attributes = (JSON.parse(made.output) as { data: { public_key: { attributes: { modulus: string; 'public-exponent': string } } } }).data.public_key.attributes;
    const publicKey = createPublicKey({
      key: { kty: 'RSA', n: Buffer.from(attributes.modulus.slice(2), 'hex').toString('base64url'), e: Buffer.from(attributes['public-exponent'].slice(2), 'hex').toString('base64url') },
      format: 'jwk',
    });
    const module = library();
    try {
      const blue = login(module, 'app_blue', passwords['app_blue']!);
      const [privateKey] = find(module, blue, 'rsa-priv');
      module.C_SignInit(blue, { mechanism: pkcs11js.CKM_SHA256_RSA_PKCS }, privateKey!);
      const signature = module.C_Sign(blue, Buffer.from('payroll'), Buffer.alloc(256));
      expect(verify('sha256', Buffer.from('payroll'), publicKey, signature)).toBe(true);
      expect(find(module, login(module, 'app_green', passwords['app_green']!), 'rsa-priv')).toHaveLength(0);
    } finally {
      module.C_Finalize();
    }
  });

  it('seed: migrates the legacy 3DES key from the FIPS cluster to a NON_FIPS one by RSA-AES; encrypt on the source, decrypt on the target', async () => {
    const aws = createCloudHsmV2Client({ endpoint: sut.url, region: 'eu-north-1', credentials: { accessKeyId: 'A', secretAccessKey: 'B' }, maxAttempts: 1 });
    const target = (await createCluster(aws, { HsmType: 'hsm2m.medium', Mode: 'NON_FIPS', SubnetIds: ['subnet-0a1b2c3d'] })).ClusterId!;
    clusters.push(target);
    await aws.send(new CreateHsmCommand({ ClusterId: target, AvailabilityZone: 'eu-north-1a' }));
    expect((await fetch(`${sut.url}/admin/regions/eu-north-1/clusters/${target}/initialize`, { method: 'POST' })).status).toBe(200);
    const binary = join(dirname(builtEntry('cloudhsm-local')), 'cli/cloudhsm-cli.main.js');
    const on = (cluster: string, role: string, pin: string, ...args: string[]) =>
      runToExit(binary, [...args, '--cluster-id', cluster], { PATH: process.env['PATH'], CLOUDHSM_LOCAL_ENDPOINT: sut.url, CLOUDHSM_ROLE: role, CLOUDHSM_PIN: pin });
    const ok = async (run: Promise<{ code: number | null; output: string }>) => {
      const result = await run;
      expect(result.output).toContain('"error_code": 0');
      return JSON.parse(result.output) as { data: Record<string, unknown> };
    };
    await ok(on(target, '', '', 'cluster', 'activate', '--password', 'Target-Admin-1'));
    await ok(on(target, 'admin', 'admin:Target-Admin-1', 'user', 'create', '--username', 'app_blue', '--role', 'crypto-user', '--password', 'target-blue-1'));
    const blueTarget = ['crypto-user', 'app_blue:target-blue-1'] as const;
    const blueSource = ['crypto-user', `app_blue:${passwords['app_blue']!}`] as const;

    await ok(on(target, ...blueTarget, 'key', 'generate-asymmetric-pair', 'rsa', '--modulus-size-bits', '2048', '--public-exponent', '65537', '--public-label', 'mig-wrap', '--private-label', 'mig-unwrap', '--public-attributes', 'wrap=true', '--private-attributes', 'unwrap=true'));
    const pemFile = join(dataDir, 'mig-wrap.pem');
    await ok(on(target, ...blueTarget, 'key', 'generate-file', '--encoding', 'pem', '--path', pemFile, '--filter', 'attr.label=mig-wrap'));
    await ok(on(clusterId, ...blueSource, 'key', 'import', 'pem', '--path', pemFile, '--label', 'to-non-fips', '--key-type-class', 'rsa-public', '--attributes', 'wrap=true'));
    const wrapped = await ok(on(clusterId, ...blueSource, 'key', 'wrap', 'rsa-aes', '--payload-filter', 'attr.label=legacy-3des', '--wrapping-filter', 'attr.label=to-non-fips', '--hash-function', 'sha256', '--mgf', 'mgf1-sha256'));
    const blob = String(wrapped.data['wrapped-key-data']);

    // FIPS mode refuses the 3DES key; the NON_FIPS cluster takes it.
    const onFips = await on(clusterId, ...blueSource, 'key', 'unwrap', 'rsa-aes', '--filter', 'attr.label=mig-unwrap', '--hash-function', 'sha256', '--mgf', 'mgf1-sha256', '--key-type-class', 'des3', '--label', 'x', '--data', blob);
    expect(JSON.parse(onFips.output)).toMatchObject({ error_code: 1 });
    await ok(on(target, ...blueTarget, 'key', 'unwrap', 'rsa-aes', '--filter', 'attr.label=mig-unwrap', '--hash-function', 'sha256', '--mgf', 'mgf1-sha256', '--key-type-class', 'des3', '--label', 'legacy-3des', '--data', blob, '--attributes', 'encrypt=true', 'decrypt=true'));

    const module = library();
    try {
      const source = login(module, 'app_blue', passwords['app_blue']!);
      const [sourceKey] = find(module, source, 'legacy-3des');
      const iv = randomBytes(8);
      module.C_EncryptInit(source, { mechanism: pkcs11js.CKM_DES3_CBC_PAD, parameter: iv }, sourceKey!);
      const ciphertext = module.C_Encrypt(source, Buffer.from('card data 4111'), Buffer.alloc(64));
      const targetSession = login(module, 'app_blue', 'target-blue-1', target);
      const [targetKey] = find(module, targetSession, 'legacy-3des');
      module.C_DecryptInit(targetSession, { mechanism: pkcs11js.CKM_DES3_CBC_PAD, parameter: iv }, targetKey!);
      expect(module.C_Decrypt(targetSession, ciphertext, Buffer.alloc(64)).toString()).toBe('card data 4111');
    } finally {
      module.C_Finalize();
    }
  });

  it('keeps creating tokens after another process deleted a token this server had seen', async () => {
    const outsider = `outsider-${randomBytes(3).toString('hex')}`;
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', outsider, '--so-pin', '12345678', '--pin', '12345678'], { stdio: 'ignore' });
    const admin = ['admin', `admin:${passwords['admin']!}`] as const;
    const create = (username: string) =>
      runToExit(join(dirname(builtEntry('cloudhsm-local')), 'cli/cloudhsm-cli.main.js'), ['user', 'create', '--username', username, '--role', 'crypto-user', '--password', `${username}-pass-1`, '--cluster-id', clusterId], {
        PATH: process.env['PATH'],
        CLOUDHSM_LOCAL_ENDPOINT: sut.url,
        CLOUDHSM_ROLE: admin[0],
        CLOUDHSM_PIN: admin[1],
      });
    // The server reloads its slot list when it makes a token, so it now knows the outsider's...
    expect((await create('app_one')).code).toBe(0);
    execFileSync('softhsm2-util', ['--delete-token', '--token', outsider], { stdio: 'ignore' });
    // ...whose slot it can no longer read once the outsider is gone (CKR_GENERAL_ERROR in SoftHSM2 2.6).
    const second = await create('app_two');
    expect(JSON.parse(second.output)).toEqual({ error_code: 0, data: { username: 'app_two', role: 'crypto-user' } });
  });
});

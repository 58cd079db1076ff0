import { createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalAws, seedDemoEstate } from '@keyfleet/local-aws';

const REGION = 'eu-west-1';

/**
 * Seed procedure (key-by-key migration without a backup, e.g. FIPS hsm1 to NON_FIPS hsm2m):
 * the destination cluster makes an RSA wrapping pair, the source imports its public key and
 * wraps the key with RSA-AES, the destination unwraps it; the migrated key signs on the
 * destination and the source's public key verifies it.
 */
describe('seed: migrate a key between clusters by RSA-AES wrap and unwrap', () => {
  let dataDir: string;
  let localAws: LocalAws;
  let source: string;
  let target: string;
  let blue: Record<string, string>;
  const migrator = { CLOUDHSM_ROLE: 'crypto-user', CLOUDHSM_PIN: 'migrator:migrate-pass-1' };
  const cli = (cluster: string, env: Record<string, string>, ...args: string[]) =>
    JSON.parse(localAws.cli.run({ argv: [...args, '--cluster-id', cluster], env }).stdout) as { error_code: number; data: Record<string, unknown> & string };

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'seed-wrap-'));
    localAws = new LocalAws({ dataDir, account: '111122223333' });
    const estate = await seedDemoEstate(localAws, REGION);
    source = estate.clusterId;
    const { username, password } = JSON.parse(localAws.secretsManager.getSecretValue(REGION, { SecretId: estate.credentials[1] }).SecretString ?? '{}') as {
      username: string;
      password: string;
    };
    blue = { CLOUDHSM_ROLE: 'crypto-user', CLOUDHSM_PIN: `${username}:${password}` };
    // The destination: a NON_FIPS hsm2m cluster with a crypto user of its own.
    const hsm = localAws.cloudHsm;
    target = (hsm.createCluster(REGION, { HsmType: 'hsm2m.medium', Mode: 'NON_FIPS', SubnetIds: ['subnet-0a1b2c3d'] }) as { Cluster: { ClusterId: string } }).Cluster.ClusterId;
    await hsm.createHsm(REGION, { ClusterId: target, AvailabilityZone: `${REGION}a` });
    hsm.markInitialized(REGION, target);
    hsm.activate(REGION, target, 'Target-Admin-1');
    const created = cli(target, { CLOUDHSM_ROLE: 'admin', CLOUDHSM_PIN: 'admin:Target-Admin-1' }, 'user', 'create', '--username', 'migrator', '--role', 'crypto-user', '--password', 'migrate-pass-1');
    expect(created.error_code).toBe(0);
  });

  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('moves an EC signing key to the other cluster, where it signs what the source public key verifies', () => {
    const key = cli(source, blue, 'key', 'generate-asymmetric-pair', 'ec', '--curve', 'secp384r1', '--public-label', 'code-pub', '--private-label', 'code-priv');
    expect(key.error_code).toBe(0);
    const wrapping = cli(target, migrator, 'key', 'generate-asymmetric-pair', 'rsa', '--modulus-size-bits', '2048', '--public-exponent', '65537', '--public-label', 'mig-wrap', '--private-label', 'mig-unwrap', '--public-attributes', 'wrap=true', '--private-attributes', 'unwrap=true');
    expect(wrapping.error_code).toBe(0);
    const rsa = (wrapping.data['public_key'] as { attributes: { modulus: string; 'public-exponent': string } }).attributes;
    const pem = createPublicKey({
      key: { kty: 'RSA', n: Buffer.from(rsa.modulus.slice(2), 'hex').toString('base64url'), e: Buffer.from(rsa['public-exponent'].slice(2), 'hex').toString('base64url') },
      format: 'jwk',
    }).export({ type: 'spki', format: 'pem' });

    expect(cli(source, blue, 'key', 'import', 'pem', '--pem-base64', Buffer.from(pem).toString('base64'), '--label', 'to-target', '--key-type-class', 'rsa-public', '--attributes', 'wrap=true').error_code).toBe(0);
    const wrapped = cli(source, blue, 'key', 'wrap', 'rsa-aes', '--payload-filter', 'attr.label=code-priv', '--wrapping-filter', 'attr.label=to-target', '--hash-function', 'sha256', '--mgf', 'mgf1-sha256');
    const blob = String(wrapped.data['wrapped-key-data']);

    const unwrapped = cli(target, migrator, 'key', 'unwrap', 'rsa-aes', '--filter', 'attr.label=mig-unwrap', '--hash-function', 'sha256', '--mgf', 'mgf1-sha256', '--key-type-class', 'ec-private', '--label', 'code-priv', '--data', blob, '--attributes', 'sign=true');
    expect(unwrapped).toMatchObject({ error_code: 0, data: { key: { attributes: { 'key-type': 'ec', class: 'private-key', curve: 'secp384r1', local: false, sign: true } } } });
    expect((unwrapped.data['key'] as { attributes: Record<string, string> }).attributes['ec-point']).toBe((key.data['public_key'] as { attributes: Record<string, string> }).attributes['ec-point']);

    const data = Buffer.from('build 4711').toString('base64');
    const signed = cli(target, migrator, 'crypto', 'sign', 'ecdsa', '--key-filter', 'attr.label=code-priv', '--hash-function', 'sha384', '--data', data);
    const verified = cli(source, blue, 'crypto', 'verify', 'ecdsa', '--key-filter', 'attr.label=code-pub', '--hash-function', 'sha384', '--data', data, '--signature', String(signed.data['signature']));
    expect(verified).toEqual({ error_code: 0, data: { message: 'Signature verified successfully' } });
  });

  it('refuses to unwrap data that is not for this key, or with a key without unwrap', () => {
    cli(target, migrator, 'key', 'generate-asymmetric-pair', 'rsa', '--modulus-size-bits', '2048', '--public-exponent', '65537', '--public-label', 'pub', '--private-label', 'priv-unwrap', '--private-attributes', 'unwrap=true');
    cli(target, migrator, 'key', 'generate-asymmetric-pair', 'rsa', '--modulus-size-bits', '2048', '--public-exponent', '65537', '--public-label', 'pub2', '--private-label', 'priv-plain');
    const unwrap = (label: string) =>
      cli(target, migrator, 'key', 'unwrap', 'rsa-aes', '--filter', `attr.label=${label}`, '--hash-function', 'sha256', '--mgf', 'mgf1-sha256', '--key-type-class', 'aes', '--label', 'x', '--data', Buffer.alloc(300, 7).toString('base64')).data;
    expect(unwrap('priv-unwrap')).toBe('Unwrap failed: the data does not decrypt with this key and mechanism');
    expect(unwrap('priv-plain')).toBe('The unwrapping key must be an RSA private key with unwrap=true');
    expect(cli(target, migrator, 'key', 'generate-asymmetric-pair', 'rsa', '--modulus-size-bits', '1024', '--public-exponent', '65537', '--public-label', 'a', '--private-label', 'b').data).toBe(
      'Invalid --modulus-size-bits: 2048 to 8192, a multiple of 256',
    );
  });
});

import { constants, createPublicKey, verify } from 'node:crypto';
import { CloudHsmCli } from './cloudhsm-cli';
import { ALICE, clusterWithUsers } from './testing/cluster-cli.test-kit';

const data = Buffer.from('quarterly report').toString('base64');

describe(`${CloudHsmCli.name} RSA keys and signatures`, () => {
  let sut: CloudHsmCli;
  let publicKey: ReturnType<typeof createPublicKey>;
  const run = (...args: string[]) => JSON.parse(sut.run({ argv: args, env: ALICE }).stdout) as { error_code: number; data: Record<string, unknown> & string };

  beforeEach(async () => {
    ({ cli: sut } = await clusterWithUsers());
    const pair = run('key', 'generate-asymmetric-pair', 'rsa', '--modulus-size-bits', '2048', '--public-exponent', '65537', '--public-label', 'rsa-pub', '--private-label', 'rsa-priv', '--private-attributes', 'sign=true');
    const attributes = (pair.data['public_key'] as { attributes: { modulus: string; 'public-exponent': string; 'modulus-size-bits': number } }).attributes;
    expect(attributes['modulus-size-bits']).toBe(2048);
    publicKey = createPublicKey({
      key: { kty: 'RSA', n: Buffer.from(attributes.modulus.slice(2), 'hex').toString('base64url'), e: Buffer.from(attributes['public-exponent'].slice(2), 'hex').toString('base64url') },
      format: 'jwk',
    });
  });

  it.each([
    ['rsa-pkcs', constants.RSA_PKCS1_PADDING],
    ['rsa-pkcs-pss', constants.RSA_PKCS1_PSS_PADDING],
  ])('signs with %s and verifies in and outside the HSM', (mechanism, padding) => {
    const signed = run('crypto', 'sign', mechanism, '--key-filter', 'attr.label=rsa-priv', '--hash-function', 'sha256', '--data', data);
    const signature = Buffer.from(String(signed.data['signature']), 'base64');
    expect(verify('sha256', Buffer.from(data, 'base64'), { key: publicKey, padding, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature)).toBe(true);
    expect(run('crypto', 'verify', mechanism, '--key-filter', 'attr.label=rsa-pub', '--hash-function', 'sha256', '--data', data, '--signature', signature.toString('base64')).data).toEqual({
      message: 'Signature verified successfully',
    });
    expect(run('crypto', 'verify', mechanism, '--key-filter', 'attr.label=rsa-pub', '--hash-function', 'sha512', '--data', data, '--signature', signature.toString('base64')).data).toBe(
      'Signature verification failed',
    );
  });

  it('refuses an EC mechanism on an RSA key', () => {
    expect(run('crypto', 'sign', 'ecdsa', '--key-filter', 'attr.label=rsa-priv', '--hash-function', 'sha256', '--data', data).data).toBe('ecdsa needs an EC key');
  });
});

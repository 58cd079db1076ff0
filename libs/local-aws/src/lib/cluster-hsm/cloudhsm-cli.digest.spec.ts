import { constants, createHash, createPublicKey, generateKeyPairSync, publicEncrypt, verify, type KeyObject } from 'node:crypto';
import { CloudHsmCli } from './cloudhsm-cli';
import { ALICE, BOB, clusterWithUsers } from './testing/cluster-cli.test-kit';

type Envelope = { error_code: number; data: unknown };
type Attributes = Record<string, string>;

const message = Buffer.from('ledger close 2026-11-30');
const digestOf = (hash: string, data: Buffer = message) => createHash(hash).update(data).digest();

/** A public key as the HSM prints it (`ec-point`, or `modulus` and `public-exponent`), as a node:crypto key. */
function publicKeyOf(attributes: Attributes): KeyObject {
  if (attributes['ec-point']) {
    const point = Buffer.from(attributes['ec-point'].slice(4), 'hex');
    const half = point.length / 2;
    const crv = ({ secp256r1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521', secp256k1: 'secp256k1' } as Record<string, string>)[attributes['curve'] ?? ''];
    return createPublicKey({ key: { kty: 'EC', crv, x: point.subarray(0, half).toString('base64url'), y: point.subarray(half).toString('base64url') }, format: 'jwk' });
  }
  const b64url = (hex = '') => Buffer.from(hex.slice(2), 'hex').toString('base64url');
  return createPublicKey({ key: { kty: 'RSA', n: b64url(attributes['modulus']), e: b64url(attributes['public-exponent']) }, format: 'jwk' });
}

describe(`${CloudHsmCli.name} crypto sign/verify --data-type digest`, () => {
  let sut: CloudHsmCli;
  const publicKeys = new Map<string, KeyObject>();
  const run = (env: Record<string, string>, ...argv: string[]) => JSON.parse(sut.run({ argv, env }).stdout) as Envelope;
  const sign = (mechanism: string, label: string, hash: string, dataType: string, data: Buffer) =>
    run(ALICE, 'crypto', 'sign', mechanism, '--key-filter', `attr.label=${label}-priv`, '--hash-function', hash, '--data-type', dataType, '--data', data.toString('base64'));
  // BOB verifies: the public key is visible to every crypto user.
  const cliVerify = (mechanism: string, label: string, hash: string, dataType: string, data: Buffer, signature: string) =>
    run(BOB, 'crypto', 'verify', mechanism, '--key-filter', `attr.label=${label}-pub`, '--hash-function', hash, '--data-type', dataType, '--data', data.toString('base64'), '--signature', signature);
  const verified = { error_code: 0, data: { message: 'Signature verified successfully' } };
  const signatureOf = (signed: Envelope) => (signed.data as { signature: string }).signature;

  beforeAll(async () => {
    ({ cli: sut } = await clusterWithUsers());
    const pairs: [string, string[]][] = [
      ['rsa', ['rsa', '--modulus-size-bits', '2048', '--public-exponent', '65537']],
      ...['secp256r1', 'secp384r1', 'secp521r1', 'secp256k1'].map((curve): [string, string[]] => [curve, ['ec', '--curve', curve]]),
    ];
    for (const [label, args] of pairs) {
      const made = run(ALICE, 'key', 'generate-asymmetric-pair', ...args, '--public-label', `${label}-pub`, '--private-label', `${label}-priv`, '--private-attributes', 'sign=true', 'unwrap=true');
      expect(made.error_code).toBe(0);
      publicKeys.set(label, publicKeyOf((made.data as { public_key: { attributes: Attributes } }).public_key.attributes));
    }
  });

  it.each([
    ['ecdsa', 'secp256r1', 'sha256'],
    ['ecdsa', 'secp256r1', 'sha384'],
    ['ecdsa', 'secp384r1', 'sha384'],
    ['ecdsa', 'secp521r1', 'sha512'],
    ['ecdsa', 'secp256k1', 'sha256'],
    ['rsa-pkcs', 'rsa', 'sha256'],
    ['rsa-pkcs', 'rsa', 'sha384'],
    ['rsa-pkcs', 'rsa', 'sha512'],
    ['rsa-pkcs-pss', 'rsa', 'sha256'],
    ['rsa-pkcs-pss', 'rsa', 'sha384'],
    ['rsa-pkcs-pss', 'rsa', 'sha512'],
  ])('signs a %s digest (%s, %s) that node:crypto verifies over the original message and the CLI verifies as a digest', (mechanism, label, hash) => {
    const signed = sign(mechanism, label, hash, 'digest', digestOf(hash));
    expect(signed.error_code).toBe(0);
    const signature = Buffer.from(signatureOf(signed), 'base64');
    const options =
      mechanism === 'ecdsa'
        ? { dsaEncoding: 'ieee-p1363' as const }
        : { padding: mechanism === 'rsa-pkcs' ? constants.RSA_PKCS1_PADDING : constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
    expect(verify(hash, message, { key: publicKeys.get(label)!, ...options }, signature)).toBe(true);
    expect(cliVerify(mechanism, label, hash, 'digest', digestOf(hash), signatureOf(signed))).toEqual(verified);
  });

  it.each([
    ['ecdsa', 'secp384r1', 'sha256'],
    ['rsa-pkcs', 'rsa', 'sha384'],
    ['rsa-pkcs-pss', 'rsa', 'sha256'],
  ])('treats %s raw and digest signatures alike (%s, %s): each verifies in the other mode', (mechanism, label, hash) => {
    const raw = signatureOf(sign(mechanism, label, hash, 'raw', message));
    const fromDigest = signatureOf(sign(mechanism, label, hash, 'digest', digestOf(hash)));
    expect(cliVerify(mechanism, label, hash, 'digest', digestOf(hash), raw)).toEqual(verified);
    expect(cliVerify(mechanism, label, hash, 'raw', message, fromDigest)).toEqual(verified);
  });

  it.each([
    ['ecdsa', 'secp256r1'],
    ['rsa-pkcs', 'rsa'],
    ['rsa-pkcs-pss', 'rsa'],
  ])('rejects a %s signature checked against a tampered digest or with a tampered signature', (mechanism, label) => {
    const signature = signatureOf(sign(mechanism, label, 'sha256', 'digest', digestOf('sha256')));
    const tamperedDigest = digestOf('sha256');
    tamperedDigest[5] = (tamperedDigest[5] ?? 0) ^ 0x01;
    const failed = { error_code: 1, data: 'Signature verification failed' };
    expect(cliVerify(mechanism, label, 'sha256', 'digest', tamperedDigest, signature)).toEqual(failed);
    expect(cliVerify(mechanism, label, 'sha256', 'digest', digestOf('sha256', Buffer.from('another message')), signature)).toEqual(failed);
    const tamperedSignature = Buffer.from(signature, 'base64');
    tamperedSignature[10] = (tamperedSignature[10] ?? 0) ^ 0x80;
    expect(cliVerify(mechanism, label, 'sha256', 'digest', digestOf('sha256'), tamperedSignature.toString('base64'))).toEqual(failed);
  });

  it('refuses a digest whose length is not the hash function\'s, to sign or to verify', () => {
    expect(sign('rsa-pkcs', 'rsa', 'sha384', 'digest', digestOf('sha256'))).toEqual({ error_code: 1, data: '--data-type digest needs a sha384 digest of 48 bytes, got 32 bytes' });
    expect(sign('ecdsa', 'secp256r1', 'sha256', 'digest', message)).toEqual({ error_code: 1, data: `--data-type digest needs a sha256 digest of 32 bytes, got ${message.length} bytes` });
    const signature = signatureOf(sign('rsa-pkcs-pss', 'rsa', 'sha256', 'digest', digestOf('sha256')));
    expect(cliVerify('rsa-pkcs-pss', 'rsa', 'sha512', 'digest', digestOf('sha256'), signature)).toEqual({ error_code: 1, data: '--data-type digest needs a sha512 digest of 64 bytes, got 32 bytes' });
  });

  it('refuses a --data-type other than raw or digest', () => {
    expect(sign('ecdsa', 'secp256r1', 'sha256', 'hashed', digestOf('sha256'))).toEqual({ error_code: 1, data: "invalid value 'hashed' for '--data-type': expected raw or digest" });
  });

  it('refuses digest mode, with a clear error, for an EC key on a curve it cannot sign digests on (secp224r1)', () => {
    // A secp224r1 key can only arrive by unwrap (cloudhsm-local does not generate one).
    const p224 = generateKeyPairSync('ec', { namedCurve: 'secp224r1' }).privateKey.export({ format: 'der', type: 'pkcs8' });
    const wrapped = publicEncrypt({ key: publicKeys.get('rsa')!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, p224);
    const unwrapped = run(ALICE, 'key', 'unwrap', 'rsa-oaep', '--filter', 'attr.label=rsa-priv', '--hash-function', 'sha256', '--mgf', 'mgf1-sha256', '--key-type-class', 'ec-private', '--label', 'p224-priv', '--data', wrapped.toString('base64'), '--attributes', 'sign=true');
    expect(unwrapped.error_code).toBe(0);
    expect(unwrapped.data).toMatchObject({ key: { attributes: { curve: 'secp224r1', 'ec-point': expect.stringMatching(/^0x04[0-9a-f]{112}$/) } } });
    expect(sign('ecdsa', 'p224', 'sha256', 'digest', digestOf('sha256'))).toEqual({
      error_code: 1,
      data: '--data-type digest is not supported by cloudhsm-local for ECDSA on curve secp224r1; sign the raw data instead',
    });
    const verifyP224 = run(BOB, 'crypto', 'verify', 'ecdsa', '--key-filter', 'attr.label=p224-priv', '--hash-function', 'sha256', '--data-type', 'digest', '--data', digestOf('sha256').toString('base64'), '--signature', 'AAAA');
    // Bob cannot see alice's private key; alice can, and is told why digest mode is refused.
    expect(verifyP224.error_code).toBe(1);
    expect(run(ALICE, 'crypto', 'verify', 'ecdsa', '--key-filter', 'attr.label=p224-priv', '--hash-function', 'sha256', '--data-type', 'digest', '--data', digestOf('sha256').toString('base64'), '--signature', 'AAAA').data).toBe(
      '--data-type digest is not supported by cloudhsm-local for ECDSA on curve secp224r1; sign the raw data instead',
    );
    expect(sign('ecdsa', 'p224', 'sha256', 'raw', message).error_code).toBe(0);
  });
});

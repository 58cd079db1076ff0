import { createPublicKey, verify } from 'node:crypto';
import { CloudHsmCli } from './cloudhsm-cli';
import { ADMIN, ALICE, BOB, clusterWithUsers } from './testing/cluster-cli.test-kit';
import type { HsmChange } from './hsm-change';

const data = Buffer.from('release 2026.11').toString('base64');

describe(`${CloudHsmCli.name} EC keys and crypto sign/verify`, () => {
  let changes: HsmChange[];
  let sut: CloudHsmCli;
  const run = (args: string[], env: Record<string, string> = {}) => JSON.parse(sut.run({ argv: args, env }).stdout) as { error_code: number; data: unknown };
  const pair = (extra: string[] = []) =>
    run(['key', 'generate-asymmetric-pair', 'ec', '--curve', 'secp256r1', '--public-label', 'sig-pub', '--private-label', 'sig-priv', ...extra], ALICE);

  beforeEach(async () => {
    changes = [];
    ({ cli: sut } = await clusterWithUsers({ apply: (c) => void changes.push(c) }));
    changes = [];
  });

  it('generates a P-256 pair: the private key for its owner, the public key visible to every crypto user', () => {
    const result = pair(['--private-attributes', 'sign=true', '--public-attributes', 'verify=true']);
    expect(result.error_code).toBe(0);
    const { public_key: pub, private_key: priv } = result.data as Record<string, { 'key-reference': string; attributes: Record<string, unknown> }>;
    expect(pub?.attributes).toMatchObject({ 'key-type': 'ec', class: 'public-key', curve: 'secp256r1', verify: true, label: 'sig-pub' });
    expect(priv?.attributes).toMatchObject({ 'key-type': 'ec', class: 'private-key', sign: true, sensitive: true, label: 'sig-priv' });
    expect(pub?.attributes['ec-point']).toMatch(/^0x04[0-9a-f]{128}$/);
    expect(pub?.attributes['ec-point']).toBe(priv?.attributes['ec-point']);
    expect(changes.map((c) => `${c.kind}:${'username' in c ? c.username : ''}:${c.kind === 'key-available' ? c.key.keyType : ''}`)).toEqual([
      'key-available:alice:ec-public',
      'key-available:bob:ec-public',
      'key-available:alice:ec-private',
    ]);
    const bobSees = run(['key', 'list'], BOB).data as { matched_keys: { attributes: { label: string } }[] };
    expect(bobSees.matched_keys.map((k) => k.attributes.label)).toEqual(['sig-pub']);
  });

  it('signs with the private key (r||s) and verifies with the public one; a tampered message fails', () => {
    const { public_key: pub } = pair(['--private-attributes', 'sign=true']).data as Record<string, { attributes: Record<string, string> }>;
    const signed = run(['crypto', 'sign', 'ecdsa', '--key-filter', 'attr.label=sig-priv', '--hash-function', 'sha256', '--data', data], ALICE);
    const { signature } = signed.data as { signature: string };
    expect(Buffer.from(signature, 'base64')).toHaveLength(64);
    // The public key from the HSM verifies outside it too.
    const point = Buffer.from(pub!.attributes['ec-point']!.slice(2), 'hex');
    const jwk = { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') };
    expect(verify('sha256', Buffer.from(data, 'base64'), { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64'))).toBe(true);
    expect(run(['crypto', 'verify', 'ecdsa', '--key-filter', 'attr.label=sig-pub', '--hash-function', 'sha256', '--data', data, '--signature', signature], BOB).data).toEqual({
      message: 'Signature verified successfully',
    });
    const tampered = Buffer.from('release 2026.12').toString('base64');
    expect(run(['crypto', 'verify', 'ecdsa', '--key-filter', 'attr.label=sig-pub', '--hash-function', 'sha256', '--data', tampered, '--signature', signature], BOB)).toEqual({
      error_code: 1,
      data: 'Signature verification failed',
    });
  });

  it('refuses to sign with a key whose sign attribute is false, or by a user who cannot see it', () => {
    pair();
    expect(run(['crypto', 'sign', 'ecdsa', '--key-filter', 'attr.label=sig-priv', '--hash-function', 'sha256', '--data', data], ALICE).data).toBe(
      'The key does not allow signing (sign=false or not a private key)',
    );
    expect(run(['crypto', 'sign', 'ecdsa', '--key-filter', 'attr.label=sig-priv', '--hash-function', 'sha256', '--data', data], BOB).data).toBe(
      'Key selection criteria matched 0 keys. Refine selection criteria to select a single key.',
    );
  });

  it('gives a crypto user created later the existing public keys, and refuses curves it cannot make', () => {
    pair();
    changes = [];
    run(['user', 'create', '--username', 'carol', '--role', 'crypto-user', '--password', 'carol-pass'], ADMIN);
    expect(changes.map((c) => `${c.kind}:${'username' in c ? c.username : ''}`)).toEqual(['user-created:carol', 'key-available:carol']);
    expect(run(['key', 'generate-asymmetric-pair', 'ec', '--curve', 'ed25519', '--public-label', 'a', '--private-label', 'b'], ALICE).data).toMatch(/Curve ed25519 is not supported/);
    expect(run(['key', 'share', '--filter', 'attr.label=sig-pub', '--username', 'bob', '--role', 'crypto-user'], ALICE).data).toBe(
      'Public keys are visible to every user and are not shared',
    );
  });
});

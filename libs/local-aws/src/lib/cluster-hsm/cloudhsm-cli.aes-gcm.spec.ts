import { CloudHsmCli } from './cloudhsm-cli';
import { ALICE, clusterWithUsers } from './testing/cluster-cli.test-kit';


describe(`${CloudHsmCli.name} aes-gcm wrap and unwrap`, () => {
  let sut: CloudHsmCli;
  const run = (...args: string[]) => JSON.parse(sut.run({ argv: args, env: ALICE }).stdout) as { error_code: number; data: Record<string, string> & string };
  const field = (result: { data: Record<string, string> }, name: string): string => result.data[name] ?? '';

  beforeEach(async () => {
    ({ cli: sut } = await clusterWithUsers());
    run('key', 'generate-symmetric', 'aes', '--label', 'kek', '--key-length-bytes', '32', '--attributes', 'wrap=true', 'unwrap=true');
    run('key', 'generate-symmetric', 'aes', '--label', 'data-key', '--key-length-bytes', '16', '--attributes', 'encrypt=true');
  });

  it('wraps with an HSM-chosen IV, prints underscores, and unwraps to a key with the same check value', () => {
    const wrapped = run('key', 'wrap', 'aes-gcm', '--payload-filter', 'attr.label=data-key', '--wrapping-filter', 'attr.label=kek', '--aad', '0a0b0c');
    expect(Object.keys(wrapped.data)).toEqual(['payload_key_reference', 'wrapping_key_reference', 'iv', 'wrapped_key_data']);
    expect(wrapped.data.iv).toMatch(/^0x[0-9a-f]{24}$/);
    const unwrap = (aad: string) =>
      run('key', 'unwrap', 'aes-gcm', '--filter', 'attr.label=kek', '--key-type-class', 'aes', '--label', 'data-key-copy', '--iv', field(wrapped, 'iv'), '--aad', aad, '--data', field(wrapped, 'wrapped_key_data'));
    expect(unwrap('0a0b0d').data).toBe('Unwrap failed: the data does not decrypt with this key and mechanism');
    const copy = unwrap('0a0b0c');
    expect(copy.error_code).toBe(0);
    const listed = run('key', 'list', '--verbose', '--filter', 'attr.key-length-bytes=16') as unknown as {
      data: { matched_keys: { attributes: { label: string; 'check-value'?: string; local: boolean } }[] };
    };
    const [original, unwrapped] = listed.data.matched_keys;
    expect([original?.attributes.label, unwrapped?.attributes.label]).toEqual(['data-key', 'data-key-copy']);
    expect(unwrapped?.attributes.local).toBe(false);
    expect(unwrapped?.attributes['check-value']).toMatch(/^0x[0-9a-f]{6}$/);
    expect(unwrapped?.attributes['check-value']).toBe(original?.attributes['check-value']);
  });

  it('refuses a wrapping key without wrap=true', () => {
    expect(run('key', 'wrap', 'aes-gcm', '--payload-filter', 'attr.label=kek', '--wrapping-filter', 'attr.label=data-key').data).toBe(
      'The wrapping key must be an AES key of yours with wrap=true',
    );
  });
});

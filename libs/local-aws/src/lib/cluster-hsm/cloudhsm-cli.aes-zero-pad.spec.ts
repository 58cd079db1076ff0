import { createCipheriv } from 'node:crypto';
import { CloudHsmCli } from './cloudhsm-cli';
import { ALICE, clusterWithUsers } from './testing/cluster-cli.test-kit';

type Result = { error_code: number; data: Record<string, string> & string };

describe(`${CloudHsmCli.name} aes-zero-pad (AES key wrap with padding, RFC 5649)`, () => {
  let sut: CloudHsmCli;
  const run = (...args: string[]) => JSON.parse(sut.run({ argv: args, env: ALICE }).stdout) as Result;

  beforeEach(async () => {
    ({ cli: sut } = await clusterWithUsers());
    run('key', 'generate-symmetric', 'aes', '--label', 'kek', '--key-length-bytes', '32', '--attributes', 'wrap=true', 'unwrap=true');
    // 20 bytes: not a multiple of the 8-byte block, so the padding is exercised.
    run('key', 'generate-symmetric', 'generic-secret', '--label', 'mac-key', '--key-length-bytes', '20', '--attributes', 'sign=true');
  });

  it('wraps to RFC 5649 output and unwraps it into a new key of the same length', () => {
    const wrapped = run('key', 'wrap', 'aes-zero-pad', '--payload-filter', 'attr.label=mac-key', '--wrapping-filter', 'attr.label=kek');
    expect(Object.keys(wrapped.data)).toEqual(['payload_key_reference', 'wrapping_key_reference', 'wrapped_key_data']);
    // 20 bytes pad to 24, plus the 8-byte integrity block.
    expect(Buffer.from(wrapped.data['wrapped_key_data'] ?? '', 'base64')).toHaveLength(32);

    const copy = run('key', 'unwrap', 'aes-zero-pad', '--filter', 'attr.label=kek', '--key-type-class', 'generic-secret', '--label', 'mac-key-copy', '--data', wrapped.data['wrapped_key_data'] ?? '');
    expect(copy.error_code).toBe(0);
    expect((copy.data as unknown as { key: { attributes: { 'key-length-bytes': number; local: boolean } } }).key.attributes).toMatchObject({ 'key-length-bytes': 20, local: false });
  });

  it('refuses data another key wrapped, and a wrapping key without wrap=true', () => {
    const foreign = createCipheriv('id-aes256-wrap-pad', Buffer.alloc(32, 7), Buffer.from('a65959a6', 'hex'));
    const data = Buffer.concat([foreign.update(Buffer.alloc(16, 1)), foreign.final()]).toString('base64');
    expect(run('key', 'unwrap', 'aes-zero-pad', '--filter', 'attr.label=kek', '--key-type-class', 'aes', '--label', 'x', '--data', data).data).toBe(
      'Unwrap failed: the data does not decrypt with this key and mechanism',
    );
    expect(run('key', 'wrap', 'aes-zero-pad', '--payload-filter', 'attr.label=kek', '--wrapping-filter', 'attr.label=mac-key').data).toBe(
      'The wrapping key must be an AES key of yours with wrap=true',
    );
  });
});

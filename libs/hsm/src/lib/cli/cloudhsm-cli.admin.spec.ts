import { HsmException, HsmExceptionCode } from '../hsm.exception';
import { CloudHsmCliAdmin } from './cloudhsm-cli.admin';
import type { CliLogin, CloudHsmCliRunner } from './cloudhsm-cli.runner';

const ALICE: CliLogin = { role: 'crypto-user', username: 'alice', password: 'alice-pass' };
const keyJson = (ref: string, label: string, extra: Record<string, unknown> = {}) => ({
  'key-reference': ref,
  'key-info': { 'key-owners': [{ username: 'alice', 'key-coverage': 'full' }], 'shared-users': [{ username: 'bob', 'key-coverage': 'full' }] },
  attributes: { label, class: 'secret-key', 'key-type': 'aes', ...extra },
});

/** Records each command and answers from a script of `data` values. */
class ScriptedCli implements CloudHsmCliRunner {
  readonly calls: { argv: readonly string[]; login?: CliLogin; destination?: CliLogin }[] = [];
  constructor(private readonly answers: unknown[]) {}
  run(argv: readonly string[], login?: CliLogin, destination?: CliLogin): Promise<unknown> {
    this.calls.push({ argv, ...(login ? { login } : {}), ...(destination ? { destination } : {}) });
    return Promise.resolve(this.answers.shift());
  }
}

describe(CloudHsmCliAdmin.name, () => {
  it('generates an AES key with its attributes, sharees and cluster, and reads the key back', async () => {
    const cli = new ScriptedCli([{ key: keyJson('0x0000000000000007', 'orders/v1', { encrypt: true }) }]);
    const sut = new CloudHsmCliAdmin(cli, 'cluster-abc');

    const key = await sut.generateSymmetric(ALICE, { type: 'aes', label: 'orders/v1', lengthBytes: 32, attributes: { encrypt: true, decrypt: true }, shareWith: ['bob'] });

    expect(cli.calls[0]?.argv).toEqual([
      'key', 'generate-symmetric', 'aes', '--label', 'orders/v1', '--key-length-bytes', '32',
      '--attributes', 'encrypt=true', 'decrypt=true', '--share-crypto-users', 'bob', '--cluster-id', 'cluster-abc',
    ]);
    expect(cli.calls[0]?.login).toBe(ALICE);
    expect(key).toMatchObject({ reference: '0x0000000000000007', label: 'orders/v1', keyClass: 'secret-key', keyType: 'aes', owners: ['alice'], sharedWith: ['bob'] });
  });

  it('lists every page of keys', async () => {
    const cli = new ScriptedCli([
      { matched_keys: [keyJson('0x1', 'a')], next_token: 'MQ==' },
      { matched_keys: [keyJson('0x2', 'b')] },
    ]);
    const sut = new CloudHsmCliAdmin(cli, 'cluster-abc');

    const keys = await sut.listKeys(ALICE, { label: 'a', keyClass: 'secret-key' });

    expect(keys.map((k) => k.reference)).toEqual(['0x1', '0x2']);
    expect(cli.calls[0]?.argv).toEqual(['key', 'list', '--verbose', '--filter', 'attr.label=a', 'attr.class=secret-key', '--max-items', '100', '--cluster-id', 'cluster-abc']);
    expect(cli.calls[1]?.argv).toContain('MQ==');
  });

  it('wraps with RSA-AES naming hash and MGF, and reads hyphenated or underscored output', async () => {
    const cli = new ScriptedCli([{ 'wrapped-key-data': Buffer.from('wrapped').toString('base64') }, { wrapped_key_data: Buffer.from('kwp').toString('base64') }]);
    const sut = new CloudHsmCliAdmin(cli, 'cluster-abc');

    const rsa = await sut.wrapKey(ALICE, { mechanism: 'rsa-aes', payload: { label: 'orders/v1' }, wrapping: { reference: '0x9' }, hash: 'sha384' });
    const kwp = await sut.wrapKey(ALICE, { mechanism: 'aes-zero-pad', payload: { label: 'orders/v1' }, wrapping: { label: 'kek' } });

    expect(rsa.wrapped.toString()).toBe('wrapped');
    expect(cli.calls[0]?.argv).toEqual(expect.arrayContaining(['--hash-function', 'sha384', '--mgf', 'mgf1-sha384', '--wrapping-filter', 'key-reference=0x9']));
    expect(kwp.wrapped.toString()).toBe('kwp');
    expect(cli.calls[1]?.argv).not.toContain('--hash-function');
  });

  it('replicates with the destination login beside the source login', async () => {
    const bobThere: CliLogin = { role: 'crypto-user', username: 'alice', password: 'other-pass' };
    const cli = new ScriptedCli([{ key: keyJson('0x7', 'orders/v1'), message: 'Successfully replicated key' }]);
    const sut = new CloudHsmCliAdmin(cli, 'cluster-abc');

    await sut.replicateKey(ALICE, { reference: '0x7' }, 'cluster-def', bobThere);

    expect(cli.calls[0]).toEqual({
      argv: ['key', 'replicate', '--filter', 'key-reference=0x7', '--source-cluster-id', 'cluster-abc', '--destination-cluster-id', 'cluster-def'],
      login: ALICE,
      destination: bobThere,
    });
  });

  it('calls an answer without the expected fields CLI_UNAVAILABLE', async () => {
    const sut = new CloudHsmCliAdmin(new ScriptedCli([{ nothing: true }]), 'cluster-abc');

    await expect(sut.generateSymmetric(ALICE, { type: 'aes', label: 'x', lengthBytes: 32, attributes: {} })).rejects.toEqual(
      new HsmException(HsmExceptionCode.CliUnavailable, 'cloudhsm-cli answered without the expected key'),
    );
  });
});

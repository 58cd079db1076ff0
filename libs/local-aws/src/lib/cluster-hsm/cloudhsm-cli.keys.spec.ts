import { CloudHsmCli } from './cloudhsm-cli';
import { ADMIN as admin, ALICE as alice, BOB as bob, clusterWithUsers } from './testing/cluster-cli.test-kit';
import type { HsmChange } from './hsm-change';


describe(`${CloudHsmCli.name} keys`, () => {
  let changes: HsmChange[];
  let failFor: string | undefined;
  let sut: CloudHsmCli;
  const run = (args: string[], env: Record<string, string> = {}) => {
    const result = sut.run({ argv: args, env });
    return { exitCode: result.exitCode, ...(JSON.parse(result.stdout) as { error_code: number; data: unknown }) };
  };
  const generate = (label: string, extra: string[] = [], env = alice) =>
    run(['key', 'generate-symmetric', 'aes', '--label', label, '--key-length-bytes', '32', ...extra], env);

  beforeEach(async () => {
    changes = [];
    failFor = undefined;
    ({ cli: sut } = await clusterWithUsers({
      apply: (change) => {
        if ('username' in change && change.username === failFor && change.kind === 'key-available') throw new Error(`token of ${failFor} is full`);
        changes.push(change);
      },
    }));
    changes = [];
  });

  it('generates an AES key with the CLI defaults, attribute overrides and a check value', () => {
    const result = generate('payments/v1', ['--attributes', 'encrypt=true', 'decrypt=true', 'extractable=false']);
    expect(result.error_code).toBe(0);
    const { key } = result.data as { key: { 'key-reference': string; 'key-info': unknown; attributes: Record<string, unknown> } };
    expect(key['key-reference']).toBe('0x0000000000000001');
    expect(key['key-info']).toEqual({
      'key-owners': [{ username: 'alice', 'key-coverage': 'full' }],
      'shared-users': [],
      'key-quorum-values': { 'manage-key-quorum-value': 0, 'use-key-quorum-value': 0 },
      'cluster-coverage': 'full',
    });
    expect(key.attributes).toMatchObject({
      'key-type': 'aes',
      label: 'payments/v1',
      class: 'secret-key',
      encrypt: true,
      decrypt: true,
      extractable: false,
      'never-extractable': true,
      sign: false,
      token: true,
      'key-length-bytes': 32,
      'check-value': expect.stringMatching(/^0x[0-9a-f]{6}$/),
    });
    expect(changes).toEqual([expect.objectContaining({ kind: 'key-available', username: 'alice', key: expect.objectContaining({ shared: false, label: 'payments/v1' }) })]);
  });

  it('shares with a crypto user (owner only), lists what each user sees, unshares', () => {
    generate('k1');
    generate('k2', ['--share-crypto-users', 'bob']);
    expect(run(['key', 'list'], bob).data).toEqual({
      matched_keys: [{ 'key-reference': '0x0000000000000002', attributes: { label: 'k2' } }],
      total_key_count: 1,
      returned_key_count: 1,
    });
    expect(run(['key', 'share', '--filter', 'attr.label=k1', '--username', 'alice', '--role', 'crypto-user'], bob).data).toBe(
      'Key selection criteria matched 0 keys. Refine selection criteria to select a single key.',
    );
    expect(run(['key', 'share', '--filter', 'attr.label=k2', '--username', 'alice', '--role', 'crypto-user'], bob).data).toBe('Only the key owner can share or unshare a key');
    expect(run(['key', 'share', '--filter', 'attr.label=k1', '--username', 'bob', '--role', 'crypto-user'], alice).data).toEqual({ message: 'Key shared successfully' });
    expect((run(['key', 'list'], bob).data as { total_key_count: number }).total_key_count).toBe(2);
    expect(run(['key', 'unshare', '--filter', 'key-reference=0x0000000000000001', '--username', 'bob', '--role', 'crypto-user'], alice).data).toEqual({
      message: 'Key unshared successfully',
    });
    expect(changes.map((c) => `${c.kind}:${'username' in c ? c.username : ''}`)).toEqual([
      'key-available:alice',
      'key-available:alice',
      'key-available:bob',
      'key-available:bob',
      'key-withdrawn:bob',
    ]);
  });

  it('pages key lists and refuses ambiguous selections', () => {
    for (const label of ['a', 'b', 'c']) generate(label, ['--attributes', 'encrypt=true']);
    const first = run(['key', 'list', '--max-items', '2', '--filter', 'attr.encrypt=true'], alice).data as { returned_key_count: number; next_token: string };
    expect(first).toMatchObject({ total_key_count: 3, returned_key_count: 2 });
    const second = run(['key', 'list', '--max-items', '2', '--starting-token', first.next_token], alice).data as { matched_keys: unknown[]; next_token?: string };
    expect(second.matched_keys).toHaveLength(1);
    expect(second.next_token).toBeUndefined();
    expect(run(['key', 'delete', '--filter', 'attr.encrypt=true'], alice).data).toBe(
      'Key selection criteria matched 3 keys. Refine selection criteria to select a single key.',
    );
  });

  it('lets only the owner delete, withdraws every copy, and then lets the owner be deleted', () => {
    generate('k1', ['--share-crypto-users', 'bob']);
    expect(run(['user', 'delete', '--username', 'alice', '--role', 'crypto-user'], admin).data).toBe('User alice owns keys: delete them first');
    expect(run(['key', 'delete', '--filter', 'attr.label=k1'], bob).data).toBe('Only the key owner can delete a key');
    expect(run(['key', 'delete', '--filter', 'attr.label=k1'], alice).data).toEqual({ message: 'Key deleted successfully' });
    expect(changes.filter((c) => c.kind === 'key-withdrawn').map((c) => ('username' in c ? c.username : ''))).toEqual(['alice', 'bob']);
    expect(run(['user', 'delete', '--username', 'alice', '--role', 'crypto-user'], admin).exitCode).toBe(0);
  });

  it('records nothing when a token cannot take the key, and withdraws it from those that did', () => {
    failFor = 'bob';
    expect(generate('k1', ['--share-crypto-users', 'bob']).error_code).toBe(1);
    expect(changes.map((c) => `${c.kind}:${'username' in c ? c.username : ''}`)).toEqual(['key-available:alice', 'key-withdrawn:alice']);
    expect((run(['key', 'list'], alice).data as { total_key_count: number }).total_key_count).toBe(0);
  });

  it('refuses key generation by an admin, bad lengths and unknown attributes', () => {
    expect(generate('k', [], admin).data).toBe('This operation is not permitted for the admin role');
    expect(run(['key', 'generate-symmetric', 'aes', '--label', 'k', '--key-length-bytes', '20'], alice).data).toBe('Invalid key length: AES keys are 16, 24 or 32 bytes');
    expect(generate('k', ['--attributes', 'trusted=true']).data).toBe('Invalid attribute trusted: expected <attribute>=true|false');
    expect(run(['key', 'generate-symmetric', 'des3', '--label', 'k', '--key-length-bytes', '24'], alice).data).toMatch(/expected aes or generic-secret/);
  });
});

describe(`${CloudHsmCli.name} key set-attribute`, () => {
  let sut: CloudHsmCli;
  let offered: HsmChange[];
  const run = (args: string[], env: Record<string, string> = alice) => JSON.parse(sut.run({ argv: args, env }).stdout) as { error_code: number; data: unknown };
  const attributes = () =>
    (run(['key', 'list', '--verbose', '--filter', 'key-reference=0x0000000000000001']).data as { matched_keys: { attributes: Record<string, unknown> }[] }).matched_keys[0]?.attributes;

  beforeEach(async () => {
    offered = [];
    ({ cli: sut } = await clusterWithUsers({ apply: (c) => void offered.push(c) }));
    run(['key', 'generate-symmetric', 'aes', '--label', 'k1', '--key-length-bytes', '32', '--share-crypto-users', 'bob']);
    offered = [];
  });

  it('lets the owner change a modifiable attribute and updates every token holding the key', () => {
    expect(run(['key', 'set-attribute', '--filter', 'attr.label=k1', '--name', 'encrypt', '--value', 'true']).data).toEqual({ message: 'Attribute set successfully' });
    expect(attributes()).toMatchObject({ encrypt: true });
    expect(offered.map((c) => `${c.kind}:${'username' in c ? c.username : ''}`)).toEqual(['key-available:alice', 'key-available:bob']);
  });

  it('keeps modifiable one-way, trusted for admins, and refuses sharees', () => {
    run(['key', 'set-attribute', '--filter', 'attr.label=k1', '--name', 'modifiable', '--value', 'false']);
    expect(run(['key', 'set-attribute', '--filter', 'attr.label=k1', '--name', 'encrypt', '--value', 'true']).data).toBe('The key is not modifiable');
    expect(run(['key', 'set-attribute', '--filter', 'attr.label=k1', '--name', 'trusted', '--value', 'true']).data).toBe('Only an admin can set the trusted attribute');
    expect(run(['key', 'set-attribute', '--filter', 'attr.label=k1', '--name', 'trusted', '--value', 'true'], admin).data).toEqual({ message: 'Attribute set successfully' });
    expect(run(['key', 'set-attribute', '--filter', 'attr.label=k1', '--name', 'label', '--value', 'x'], bob).data).toBe('Only the key owner can set attributes');
  });
});

import { generateKeyPairSync } from 'node:crypto';
import { FakeClusterAdmins } from '../../testing/fake-cluster-admin.test-kit';
import { GatewayException, GatewayExceptionCode } from '../gateway.exception';
import { KeyDirectory } from '../keys/key-directory';
import { KeyAdministration } from './key-administration';

describe(KeyAdministration.name, () => {
  let directory: KeyDirectory;
  let clusters: FakeClusterAdmins;
  let invalidated: string[];
  let sut: KeyAdministration;

  beforeEach(() => {
    directory = new KeyDirectory({ rings: { main: { writeCluster: 'blue', weights: { blue: 90, green: 10 } } }, keys: [] });
    clusters = new FakeClusterAdmins(['blue', 'green']);
    invalidated = [];
    sut = new KeyAdministration({ directory, clusters, handles: { invalidate: (c, l) => invalidated.push(`${c}:${l}`) } });
  });

  it('makes a key on the ring\'s write cluster, labelled by alias and version, and records it only then', async () => {
    const made = await sut.generateKey({ alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', shareWith: ['standby'] });

    expect(made).toMatchObject({ alias: 'orders', version: 1, label: 'orders/v1', clusterId: 'blue' });
    expect(clusters.cluster('blue').objects).toEqual([expect.objectContaining({ label: 'orders/v1', keyClass: 'secret-key', sharedWith: ['standby'] })]);
    expect(directory.resolve('orders')).toMatchObject({ version: 1, label: 'orders/v1', clusters: [{ id: 'blue', weight: 90 }] });
    expect(invalidated).toEqual(['blue:orders/v1']);
  });

  it('adds a second version, current only when asked', async () => {
    await sut.generateKey({ alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    const second = await sut.generateKey({ alias: 'orders', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', makeCurrent: false });

    expect(second.label).toBe('orders/v2');
    expect(directory.resolve('orders').version).toBe(1);
    expect(sut.setKeyState('orders', { currentVersion: 2 })).toEqual({ alias: 'orders', currentVersion: 2, enabled: true });
  });

  it('refuses bad requests before anything reaches an HSM', async () => {
    await expect(sut.generateKey({ alias: 'macs', ring: 'main', spec: 'HMAC_256', usage: 'ENCRYPT_DECRYPT' })).rejects.toThrow(new GatewayException(GatewayExceptionCode.InvalidArgument, 'a HMAC_256 key cannot be ENCRYPT_DECRYPT'));
    await expect(sut.generateKey({ alias: 'x', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' })).rejects.toThrow('ring is required for the new key x');
    await expect(sut.generateKey({ alias: 'x', ring: 'nope', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' })).rejects.toThrow('no key ring nope');
    await expect(sut.generateKey({ alias: 'bad alias', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' })).rejects.toMatchObject({ code: GatewayExceptionCode.InvalidArgument });
    expect(clusters.cluster('blue').objects).toEqual([]);
  });

  it('refuses to make a version whose label the cluster already holds, and records nothing when the HSM fails', async () => {
    await clusters.cluster('blue').generateKey({ spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', label: 'orders/v1', extractable: true, shareWith: [] });
    await expect(sut.generateKey({ alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' })).rejects.toMatchObject({ code: GatewayExceptionCode.AlreadyExists });

    clusters.cluster('blue').failNext.set('generateKey', new GatewayException(GatewayExceptionCode.Unavailable, 'cli down'));
    await expect(sut.generateKey({ alias: 'receipts', ring: 'main', spec: 'ECC_NIST_P256', usage: 'SIGN_VERIFY' })).rejects.toThrow('cli down');
    expect(directory.key('receipts')).toBeUndefined();
  });

  it('replicates both halves of a pair to another cluster, then routes there too; asking again changes nothing', async () => {
    await sut.generateKey({ alias: 'receipts', ring: 'main', spec: 'ECC_NIST_P256', usage: 'SIGN_VERIFY' });

    expect(await sut.replicateKey('receipts', 'green')).toMatchObject({ version: 1, sourceClusterId: 'blue', copied: 2 });
    expect(clusters.cluster('green').objects.map((o) => o.keyClass).sort()).toEqual(['private-key', 'public-key']);
    expect(directory.resolve('receipts').clusters.map((c) => c.id)).toEqual(['blue', 'green']);
    expect((await sut.replicateKey('receipts', 'green')).copied).toBe(0);
  });

  it('finishes a replication that stopped half-way without copying an object twice', async () => {
    await sut.generateKey({ alias: 'receipts', ring: 'main', spec: 'ECC_NIST_P256', usage: 'SIGN_VERIFY' });
    const blue = clusters.cluster('blue');
    const original = blue.replicateKey.bind(blue);
    let calls = 0;
    blue.replicateKey = (selector, destination) => (++calls === 2 ? Promise.reject(new GatewayException(GatewayExceptionCode.Unavailable, 'lost')) : original(selector, destination));

    await expect(sut.replicateKey('receipts', 'green')).rejects.toThrow('lost');
    expect(directory.resolve('receipts').clusters.map((c) => c.id)).toEqual(['blue']);
    expect((await sut.replicateKey('receipts', 'green')).copied).toBe(1);
    expect(clusters.cluster('green').objects).toHaveLength(2);
  });

  it('destroys a version everywhere it is held and refuses the current version while others exist', async () => {
    await sut.generateKey({ alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    await sut.replicateKey('orders', 'green');
    await sut.generateKey({ alias: 'orders', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });

    await expect(sut.destroyKeyVersion('orders', 2)).rejects.toThrow('version 2 is the current version of orders: make another version current first');
    expect(await sut.destroyKeyVersion('orders', 1)).toEqual({ alias: 'orders', version: 1, clusters: ['blue', 'green'] });
    expect(clusters.cluster('green').objects).toEqual([]);
    expect(directory.key('orders')?.versions.map((v) => v.version)).toEqual([2]);
    expect(invalidated).toEqual(expect.arrayContaining(['blue:orders/v1', 'green:orders/v1']));
  });

  it('reports where a destruction stopped, keeps the directory true to what is left, and finishes when asked again', async () => {
    await sut.generateKey({ alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    await sut.replicateKey('orders', 'green');
    clusters.cluster('green').failNext.set('deleteKey', new GatewayException(GatewayExceptionCode.Unavailable, 'cli down'));

    await expect(sut.destroyKeyVersion('orders', 1)).rejects.toThrow('destroying orders v1 stopped at cluster green (still held by green; ask again to finish): cli down');
    expect(directory.resolve('orders').clusters.map((c) => c.id)).toEqual(['green']);

    await sut.destroyKeyVersion('orders', 1);
    expect(directory.key('orders')).toBeUndefined();
  });

  it('shares every version with a crypto user once, and unshares it', async () => {
    await sut.generateKey({ alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    await sut.generateKey({ alias: 'orders', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });

    expect((await sut.shareKey('orders', 'standby', true)).changed).toHaveLength(2);
    expect((await sut.shareKey('orders', 'standby', true)).changed).toHaveLength(0);
    expect((await sut.shareKey('orders', 'standby', false, 2)).changed).toEqual([{ version: 2, clusterId: 'blue', reference: expect.any(String) }]);
  });

  it('wraps under a wrapping key named by alias, and unwraps into a new recorded version', async () => {
    await sut.generateKey({ alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    await sut.generateKey({ alias: 'kek', ring: 'main', spec: 'AES_256', usage: 'WRAP_UNWRAP' });

    const wrapped = await sut.wrapKey({ alias: 'orders', wrappingKeyAlias: 'kek', mechanism: 'AES_KEY_WRAP_PAD' });
    expect(wrapped).toMatchObject({ alias: 'orders', version: 1, clusterId: 'blue', mechanism: 'AES_KEY_WRAP_PAD' });
    await expect(sut.wrapKey({ alias: 'orders', wrappingKeyAlias: 'orders', mechanism: 'AES_KEY_WRAP_PAD' })).rejects.toThrow('key orders is not a WRAP_UNWRAP key');

    const unwrapped = await sut.unwrapKey({ clusterId: 'blue', unwrappingKeyAlias: 'kek', mechanism: 'AES_KEY_WRAP_PAD', wrapped: wrapped.wrapped, alias: 'imported', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    expect(unwrapped).toMatchObject({ version: 1, label: 'imported/v1', clusterId: 'blue' });
    expect(directory.resolve('imported').label).toBe('imported/v1');
  });

  it('imports the public half beside an unwrapped private key, and refuses one of the wrong type', async () => {
    await clusters.cluster('blue').generateKey({ spec: 'RSA_2048', usage: 'WRAP_UNWRAP', label: 'rsa-kek', extractable: false, shareWith: [] });
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const unwrap = (pem?: string) =>
      sut.unwrapKey({ clusterId: 'blue', unwrappingKeyLabel: 'rsa-kek', mechanism: 'RSA_AES', wrapped: Buffer.from('x'), alias: 'signer', ring: 'main', spec: 'ECC_NIST_P256', usage: 'SIGN_VERIFY', ...(pem ? { publicKeyPem: pem } : {}) });

    await expect(unwrap()).rejects.toThrow('unwrapping a ECC_NIST_P256 private key needs public_key_pem');
    await expect(unwrap(rsa)).rejects.toThrow('public_key_pem is not a ECC_NIST_P256 public key');
    await unwrap(ec);
    expect(clusters.cluster('blue').objects.filter((o) => o.label === 'signer/v1').map((o) => o.keyClass).sort()).toEqual(['private-key', 'public-key']);
  });

  it('lists the directory, and a cluster\'s objects marked managed or not', async () => {
    await sut.generateKey({ alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' });
    await clusters.cluster('blue').generateKey({ spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', label: 'stray', extractable: true, shareWith: [] });

    const listed = await sut.listKeys('blue');
    expect(listed.keys.map((k) => k.alias)).toEqual(['orders']);
    expect(listed.objects?.map((o) => [o.label, o.managed])).toEqual([['orders/v1', true], ['stray', false]]);
    const described = await sut.describeKey('orders');
    expect(described.versions[0]?.clusters).toEqual([{ clusterId: 'blue', value: [expect.objectContaining({ label: 'orders/v1' })] }]);
  });
});

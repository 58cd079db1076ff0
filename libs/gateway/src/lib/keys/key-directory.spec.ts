import { GatewayException, GatewayExceptionCode } from '../gateway.exception';
import { KeyDirectory, type KeyDirectoryConfig } from './key-directory';

const config = (): KeyDirectoryConfig => ({
  rings: { main: { writeCluster: 'blue', weights: { blue: 90, green: 10 } } },
  keys: [{ alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', currentVersion: 1, versions: [{ version: 1, label: 'orders/v1', clusters: ['blue', 'green'] }] }],
});

describe(KeyDirectory.name, () => {
  let sut: KeyDirectory;
  let changes: number;

  beforeEach(() => {
    sut = new KeyDirectory(config());
    changes = 0;
    sut.onChange(() => (changes += 1));
  });

  it('adds a new key whose first version is current, and a later version current only when asked', () => {
    sut.addVersion({ alias: 'invoices', ring: 'main', spec: 'ECC_NIST_P256', usage: 'SIGN_VERIFY' }, { version: 1, label: 'invoices/v1', clusters: ['blue'] }, false);
    sut.addVersion({ alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' }, { version: 2, label: 'orders/v2', clusters: ['blue'] }, false);

    expect(sut.resolve('invoices')).toMatchObject({ version: 1, label: 'invoices/v1', clusters: [{ id: 'blue', weight: 90 }] });
    expect(sut.resolve('orders').version).toBe(1);
    expect(sut.nextVersion('orders')).toBe(3);
    expect(sut.nextVersion('new-key')).toBe(1);
    expect(changes).toBe(2);

    sut.setCurrentVersion('orders', 2);
    expect(sut.resolve('orders').label).toBe('orders/v2');
  });

  it('refuses a version that would change the key\'s spec, a usage its spec cannot have, and a duplicate version', () => {
    expect(() => sut.addVersion({ alias: 'orders', ring: 'main', spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC' }, { version: 2, label: 'orders/v2', clusters: ['blue'] }, true)).toThrow(
      new GatewayException(GatewayExceptionCode.FailedPrecondition, 'key orders is a AES_256 ENCRYPT_DECRYPT key of ring main'),
    );
    expect(() => sut.addVersion({ alias: 'macs', ring: 'main', spec: 'HMAC_256', usage: 'SIGN_VERIFY' }, { version: 1, label: 'macs/v1', clusters: ['blue'] }, true)).toThrow(/a HMAC_256 key cannot be SIGN_VERIFY/);
    expect(() => sut.addVersion({ alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' }, { version: 1, label: 'orders/v1b', clusters: ['blue'] }, true)).toThrow(/duplicate version/);
    expect(changes).toBe(0);
  });

  it('tracks the clusters holding a version, and forgets a version, then a key, left on none', () => {
    sut.addVersion({ alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' }, { version: 2, label: 'orders/v2', clusters: ['blue'] }, true);
    sut.addClusters('orders', 2, ['green', 'blue']);
    expect(sut.resolve('orders', 2).clusters.map((c) => c.id)).toEqual(['blue', 'green']);

    sut.removeClusters('orders', 2, ['blue', 'green']);
    expect(() => sut.resolve('orders', 2)).toThrow(new GatewayException(GatewayExceptionCode.NotFound, 'key orders has no version 2'));
    // The current version went with it: the highest left is current.
    expect(sut.resolve('orders').version).toBe(1);

    sut.removeClusters('orders', 1, ['blue', 'green']);
    expect(sut.key('orders')).toBeUndefined();
  });

  it('disables and enables a key', () => {
    sut.setEnabled('orders', false);
    expect(() => sut.resolve('orders')).toThrow(new GatewayException(GatewayExceptionCode.FailedPrecondition, 'key orders is disabled'));
    sut.setEnabled('orders', true);
    expect(sut.resolve('orders').version).toBe(1);
  });

  it('gives a snapshot that rebuilds the same directory, and is not shared with it', () => {
    sut.setWeights('main', { blue: 0, green: 100 });
    const snapshot = sut.snapshot();
    const copy = new KeyDirectory(snapshot);

    expect(copy.resolve('orders').clusters).toEqual([{ id: 'blue', weight: 0 }, { id: 'green', weight: 100 }]);
    sut.setWeights('main', { blue: 50, green: 50 });
    expect(snapshot.rings['main']?.weights).toEqual({ blue: 0, green: 100 });
  });
});

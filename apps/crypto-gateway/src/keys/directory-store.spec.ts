import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyDirectoryConfig } from '@keyfleet/gateway';
import { DirectoryStore } from './directory-store';

const seed = (): KeyDirectoryConfig => ({
  rings: { main: { writeCluster: 'blue', weights: { blue: 100 } } },
  keys: [
    { alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', currentVersion: 1, versions: [{ version: 1, label: 'orders/v1', clusters: ['blue'] }] },
    { alias: 'old', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT', currentVersion: 1, versions: [{ version: 1, label: 'old/v1', clusters: ['blue'] }] },
  ],
});

describe(DirectoryStore.name, () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'directory-store-'));
    path = join(dir, 'state', 'key-directory.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts from the clusters file, then keeps run-time changes across a restart', () => {
    const first = new DirectoryStore(path).load(seed());
    first.addVersion({ alias: 'orders', ring: 'main', spec: 'AES_256', usage: 'ENCRYPT_DECRYPT' }, { version: 2, label: 'orders/v2', clusters: ['blue'] }, true);
    first.setWeights('main', { blue: 50 });

    const second = new DirectoryStore(path).load(seed());

    expect(second.resolve('orders').label).toBe('orders/v2');
    expect(second.rings()['main']?.weights).toEqual({ blue: 50 });
  });

  it('does not bring back a destroyed key of the clusters file', () => {
    new DirectoryStore(path).load(seed()).removeClusters('old', 1, ['blue']);

    const restarted = new DirectoryStore(path).load(seed());

    expect(restarted.key('old')).toBeUndefined();
    expect(restarted.key('orders')).toBeDefined();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ retired: ['old'] });
  });

  it('adds keys and rings the clusters file gained since', () => {
    new DirectoryStore(path).load(seed()).setWeights('main', { blue: 10 });
    const grown = seed();
    grown.rings['extra'] = { writeCluster: 'green', weights: { green: 1 } };
    grown.keys.push({ alias: 'fresh', ring: 'extra', spec: 'HMAC_256', usage: 'GENERATE_VERIFY_MAC', currentVersion: 1, versions: [{ version: 1, label: 'fresh/v1', clusters: ['green'] }] });

    const restarted = new DirectoryStore(path).load(grown);

    expect(restarted.resolve('fresh').clusters).toEqual([{ id: 'green', weight: 1 }]);
    expect(restarted.rings()['main']?.weights).toEqual({ blue: 10 });
  });
});

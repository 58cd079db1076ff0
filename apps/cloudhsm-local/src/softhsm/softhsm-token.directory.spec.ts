import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SoftHsmTokenDirectory } from './softhsm-token.directory';

describe(SoftHsmTokenDirectory.name, () => {
  let root: string;
  let sut: SoftHsmTokenDirectory;
  /** A token directory as SoftHSM2's file store lays it out: token.object holds the blank-padded label and serial. */
  const token = (uuid: string, label: string, serial: string) => {
    const dir = join(root, 'tokens', uuid);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'token.object'), Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from(label.padEnd(32, ' ')), Buffer.from([0, 0, 0, 0x10]), Buffer.from(serial)]));
    writeFileSync(join(dir, 'token.lock'), '');
    return dir;
  };
  const object = (dir: string, uuid: string) => {
    writeFileSync(join(dir, `${uuid}.object`), 'attributes');
    writeFileSync(join(dir, `${uuid}.lock`), '');
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'softhsm-dir-spec-'));
    writeFileSync(join(root, 'softhsm2.conf'), `# comment\ndirectories.tokendir = ${root}/tokens\nobjectstore.backend = file\nlog.level = ERROR\n`);
    sut = SoftHsmTokenDirectory.fromConfig(join(root, 'softhsm2.conf'));
  });

  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('finds a token\'s directory by its serial number and label, not by a label that merely starts the same', () => {
    const blue = token('1b0e', 'cluster-a/app', '00000000000000a1');
    const blueTwo = token('2c1f', 'cluster-a/app_2', '00000000000000b2');
    expect(sut.tokenDir('00000000000000a1', 'cluster-a/app')).toBe(blue);
    expect(sut.tokenDir('00000000000000b2', 'cluster-a/app_2')).toBe(blueTwo);
    expect(() => sut.tokenDir('00000000000000a1', 'cluster-a/app_2')).toThrow(/no SoftHSM2 token directory .* for token cluster-a\/app_2/);
  });

  it('names the one object file created since a listing, and refuses to guess when there are several or none', () => {
    const dir = token('1b0e', 'cluster-a/app', '00000000000000a1');
    object(dir, 'aaaa-0001');
    const before = sut.objectFiles(dir);
    expect([...before]).toEqual(['aaaa-0001.object']);
    expect(() => sut.newObjectFile(dir, before)).toThrow('found 0');
    object(dir, 'bbbb-0002');
    expect(sut.newObjectFile(dir, before)).toBe('bbbb-0002.object');
    object(dir, 'cccc-0003');
    expect(() => sut.newObjectFile(dir, before)).toThrow('found 2');
  });

  it('removes an object\'s file and its lock and leaves the token\'s own files alone', () => {
    const dir = token('1b0e', 'cluster-a/app', '00000000000000a1');
    object(dir, 'aaaa-0001');
    object(dir, 'bbbb-0002');
    sut.removeObject(dir, 'aaaa-0001.object');
    expect(readdirSync(dir).sort()).toEqual(['bbbb-0002.lock', 'bbbb-0002.object', 'token.lock', 'token.object']);
    expect(() => sut.removeObject(dir, '../token.object')).toThrow('not a SoftHSM2 object file name');
    expect(() => sut.removeObject(dir, 'token.object')).toThrow('not a SoftHSM2 object file name');
    expect(existsSync(join(dir, 'token.object'))).toBe(true);
  });

  it('refuses a SoftHSM2 configuration whose objects are not files', () => {
    writeFileSync(join(root, 'db.conf'), `directories.tokendir = ${root}/tokens\nobjectstore.backend = db\n`);
    expect(() => SoftHsmTokenDirectory.fromConfig(join(root, 'db.conf'))).toThrow(/needs objectstore.backend = file .* not db/);
  });
});

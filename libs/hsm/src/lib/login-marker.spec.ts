import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoginMarker, isLoggedInElsewhere, markerName } from './login-marker';

describe(LoginMarker.name, () => {
  let dir: string;
  const label = 'cluster-abcdefghijk/app_blue';

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'logins-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('makes a login visible until it is cleared', () => {
    const sut = new LoginMarker(dir, label);
    expect(isLoggedInElsewhere(dir, label)).toBe(false);
    sut.mark();
    expect(isLoggedInElsewhere(dir, label)).toBe(true);
    expect(isLoggedInElsewhere(dir, 'cluster-abcdefghijk/app_green')).toBe(false);
    sut.clear();
    expect(isLoggedInElsewhere(dir, label)).toBe(false);
  });

  it('ignores the marker of a process that has ended', () => {
    const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(join(dir, `${markerName(label)}.${ended}.login`), 'x');
    expect(isLoggedInElsewhere(dir, label)).toBe(false);
  });

  it('reports nobody logged in when the folder does not exist', () => {
    expect(isLoggedInElsewhere(join(dir, 'missing'), label)).toBe(false);
  });
});

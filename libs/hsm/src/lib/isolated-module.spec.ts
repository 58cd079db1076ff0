import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HsmException, HsmExceptionCode } from './hsm.exception';
import { loadIsolatedModule } from './isolated-module';

describe(loadIsolatedModule.name, () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'isolated-module-'));
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reports a library that is not there as MODULE_LOAD_FAILED', () => {
    expect(() => loadIsolatedModule(join(dir, 'missing.so'), join(dir, 'copies'))).toThrow(
      expect.objectContaining({ code: HsmExceptionCode.ModuleLoadFailed }) as HsmException,
    );
  });

  it('reports a file that is not a shared library as MODULE_LOAD_FAILED', () => {
    const fake = join(dir, 'fake.so');
    writeFileSync(fake, 'not an ELF file');
    expect(() => loadIsolatedModule(fake, join(dir, 'copies'))).toThrow(HsmException);
  });
});

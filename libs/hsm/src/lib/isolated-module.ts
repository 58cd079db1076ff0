import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PKCS11 } from 'pkcs11js';
import { HsmException, HsmExceptionCode } from './hsm.exception';

let copies = 0;

/**
 * Loads a PKCS#11 library with state of its own. The dynamic loader shares one copy of a
 * library per path within a process, so all users of `libsofthsm2.so` share its login
 * state and its PIN cache: SoftHSM2 keeps accepting a changed PIN's old value (and refusing
 * the new one) until that copy is finalized and initialized again, which would drop every
 * other pool's sessions. Loading a byte copy from a distinct path gives each pool its own
 * library state, so one pool can re-initialize after a credential change without
 * disturbing the others (measured: libs/hsm/src/lib/softhsm-behaviour.integration-spec.ts).
 *
 * Real CloudHSM (SDK 5) needs no copy: it refuses an old password at once.
 *
 * @param libraryPath the vendor's PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so
 * @param copyDir where the private copies go (a cache folder of the process)
 */
export function loadIsolatedModule(libraryPath: string, copyDir: string): { module: PKCS11; path: string } {
  try {
    mkdirSync(copyDir, { recursive: true, mode: 0o700 });
    copies += 1;
    const path = join(copyDir, `${process.pid}-${copies}-${basename(libraryPath)}`);
    copyFileSync(libraryPath, path);
    if (statSync(path).size !== statSync(libraryPath).size) throw new Error('incomplete copy');
    const module = new PKCS11();
    module.load(path);
    return { module, path };
  } catch (err) {
    throw new HsmException(HsmExceptionCode.ModuleLoadFailed, `cannot load an isolated copy of ${libraryPath}`, { cause: err });
  }
}

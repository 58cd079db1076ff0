import { rmSync } from 'node:fs';
import * as pkcs11js from 'pkcs11js';
import { HsmException, HsmExceptionCode } from '../hsm.exception';
import { loadIsolatedModule } from '../isolated-module';
import type { Pkcs11Offload } from '../offload/pkcs11-offload';
import { toHsmException } from '../pkcs11-error.mapper';

/** How to load a PKCS#11 library. */
export interface Pkcs11ModuleOptions {
  /** The vendor library: CloudHSM's `libcloudhsm_pkcs11.so` in production, `libsofthsm2.so` locally. */
  readonly libraryPath: string;
  /**
   * When set, load a private byte copy of the library from this folder so this module has
   * library state of its own (SoftHSM2 caches PINs per library instance; see
   * `loadIsolatedModule`). CloudHSM needs no copy.
   */
  readonly isolatedCopyDir?: string;
  /** Worker threads to run operations on (`HsmCrypto` uses them when set); the caller owns and closes them. */
  readonly offload?: Pkcs11Offload;
}

/** What the PKCS#11 layer did, counted where it happens (benchmarks and tests read these). */
export class Pkcs11Counters {
  logins = 0;
  objectSearches = 0;
  sessionsOpened = 0;
  sessionsClosed = 0;
  maxOpenSessions = 0;

  get openSessions(): number {
    return this.sessionsOpened - this.sessionsClosed;
  }

  /** Records an opened session and keeps the high-water mark. */
  opened(): void {
    this.sessionsOpened += 1;
    this.maxOpenSessions = Math.max(this.maxOpenSessions, this.openSessions);
  }
}

/**
 * One initialised instance of a PKCS#11 library. Initialised with CKF_OS_LOCKING_OK so the
 * library may be called from several threads at once: pkcs11js runs the `*Async` calls on
 * libuv's thread pool, which is what lets a pool's sessions work in parallel.
 * Object handles are valid only within the instance that found them (CloudHSM SDK 5), so
 * handle caches belong to an instance and die with it.
 */
export class Pkcs11Module {
  readonly counters = new Pkcs11Counters();
  private closed = false;

  private constructor(
    /** The pkcs11js binding; for sessions and mechanisms of this library only. */
    readonly lib: pkcs11js.PKCS11,
    /** The file the library was loaded from (its private copy, if any): what worker threads load to share this instance. */
    readonly path: string,
    private readonly copyPath: string | undefined,
    readonly offload: Pkcs11Offload | undefined,
  ) {}

  /** Loads and initialises the library. @throws HsmException `ModuleLoadFailed` */
  static open(options: Pkcs11ModuleOptions): Pkcs11Module {
    let lib: pkcs11js.PKCS11;
    let copyPath: string | undefined;
    if (options.isolatedCopyDir) {
      ({ module: lib, path: copyPath } = loadIsolatedModule(options.libraryPath, options.isolatedCopyDir));
    } else {
      lib = new pkcs11js.PKCS11();
      try {
        lib.load(options.libraryPath);
      } catch (err) {
        throw new HsmException(HsmExceptionCode.ModuleLoadFailed, `cannot load ${options.libraryPath}`, { cause: err });
      }
    }
    try {
      lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (err) {
      if (copyPath) rmSync(copyPath, { force: true });
      throw new HsmException(HsmExceptionCode.ModuleLoadFailed, `C_Initialize of ${options.libraryPath} failed`, { cause: err });
    }
    return new Pkcs11Module(lib, copyPath ?? options.libraryPath, copyPath, options.offload);
  }

  /** The slot whose token has `label` (PKCS#11 pads labels to 32 bytes with spaces). @throws HsmException `TokenNotFound` */
  slotByTokenLabel(label: string): Buffer {
    let slots: Buffer[];
    try {
      slots = this.lib.C_GetSlotList(true);
    } catch (err) {
      throw toHsmException(err, 'C_GetSlotList');
    }
    for (const slot of slots) {
      try {
        if (this.lib.C_GetTokenInfo(slot).label.trim() === label) return slot;
      } catch {
        // A slot whose token vanished between the two calls is simply not the one.
      }
    }
    throw new HsmException(HsmExceptionCode.TokenNotFound, `no token labelled ${label}`);
  }

  /** Finalises the library and removes its private copy. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.offload?.forget(this.path);
    try {
      this.lib.C_Finalize();
    } finally {
      this.lib.close();
      if (this.copyPath) rmSync(this.copyPath, { force: true });
    }
  }
}

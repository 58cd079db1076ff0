import * as pkcs11js from 'pkcs11js';
import type { FaultInjector, FaultSettings } from '../fault/fault-injector';
import { HSM_ERROR_TRAITS, HsmException, HsmExceptionCode } from '../hsm.exception';
import { CURVES } from '../crypto/public-key';
import { KeyHandleCache, type CachedKey, type KeyObjectClass } from '../key/key-handle-cache';
import type { LoginMarker } from '../login-marker';
import type { Pkcs11Module } from '../module/pkcs11-module';
import { isCkr, toHsmException } from '../pkcs11-error.mapper';

// Session states (PKCS#11 v2.40 §5.2; pkcs11js does not export CKS_*).
const CKS_RO_USER_FUNCTIONS = 1;
const CKS_RW_USER_FUNCTIONS = 3;

const CLASS_OF: Readonly<Record<KeyObjectClass, number>> = {
  secret: pkcs11js.CKO_SECRET_KEY,
  private: pkcs11js.CKO_PRIVATE_KEY,
  public: pkcs11js.CKO_PUBLIC_KEY,
};

/** A pool of PKCS#11 sessions of one crypto user on one token. */
export interface SessionPoolOptions {
  /** For logs and errors, e.g. `cluster-abc/app_blue`; never a PIN. */
  readonly name: string;
  readonly module: Pkcs11Module;
  /** The token's slot (`Pkcs11Module.slotByTokenLabel`). */
  readonly slot: Buffer;
  /** The PIN, fetched when the pool logs in (CloudHSM: `user:password`; SoftHSM2: the token's user PIN). */
  readonly pin: () => Promise<string>;
  /** Most sessions open at once (CloudHSM allows 1,024 per application). */
  readonly size: number;
  /** Makes the live login visible to cloudhsm-local (local mode only). */
  readonly loginMarker?: LoginMarker;
  /** Test configuration only. */
  readonly faults?: FaultInjector;
}

/** A snapshot of a pool, for status RPCs and metrics. */
export interface SessionPoolStats {
  readonly size: number;
  readonly open: number;
  readonly busy: number;
  readonly waiting: number;
  readonly loggedIn: boolean;
}

interface Waiter {
  resolve(session: Buffer | null): void;
  reject(err: Error): void;
}

/**
 * Bounded, lazily filled PKCS#11 sessions with one login for the whole pool.
 *
 * In PKCS#11 a login belongs to the application and slot, not to one session (a second
 * C_Login answers CKR_USER_ALREADY_LOGGED_IN; PKCS#11 v2.40 §5.6), so the pool logs in once
 * and again only after the library reports the login gone (CKR_USER_NOT_LOGGED_IN). A
 * session that fails with a broken-session error is closed and replaced by a new one on
 * demand; sessions are handed to waiters first come, first served.
 */
export class SessionPool {
  /** Key handles found through this pool's library instance. */
  readonly keys = new KeyHandleCache();
  private readonly idle: Buffer[] = [];
  private readonly waiters: Waiter[] = [];
  private open = 0;
  private loggedIn = false;
  private loggingIn: Promise<void> | undefined;
  private closing = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: SessionPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw new HsmException(HsmExceptionCode.InvalidInput, `pool ${options.name}: size must be a positive integer`);
    }
  }

  get name(): string {
    return this.options.name;
  }

  /** The library instance this pool's sessions (and cached handles) belong to. */
  get module(): Pkcs11Module {
    return this.options.module;
  }

  stats(): SessionPoolStats {
    return {
      size: this.options.size,
      open: this.open,
      busy: this.open - this.idle.length,
      waiting: this.waiters.length,
      loggedIn: this.loggedIn,
    };
  }

  /**
   * Runs `work` with a session of its own, logged in. The session goes back to the pool
   * afterwards, or is replaced if the error says it is broken. When `deadline` (epoch ms)
   * passes first, the call fails with `PoolTimeout`; work already running keeps its session
   * until the library returns.
   *
   * @throws HsmException from acquiring, logging in or `work` (PKCS#11 errors mapped).
   */
  async run<T>(work: (session: Buffer) => Promise<T>, deadline?: number): Promise<T> {
    if (this.closing) throw new HsmException(HsmExceptionCode.PoolClosed, `pool ${this.name} is closed`);
    const session = await this.acquire(deadline);
    const running = this.useSession(session, work);
    return deadline === undefined ? running : raceDeadline(running, deadline, this.name);
  }

  /**
   * Finds a key object by label (and class) through the cache; a search costs one
   * C_FindObjects round. @throws HsmException `KeyNotFound`
   */
  findKey(session: Buffer, label: string, keyClass: KeyObjectClass): CachedKey {
    const cached = this.keys.get(label, keyClass);
    if (cached) return cached;
    const { lib, counters } = this.options.module;
    counters.objectSearches += 1;
    let found: Buffer[];
    try {
      lib.C_FindObjectsInit(session, [
        { type: pkcs11js.CKA_LABEL, value: label },
        { type: pkcs11js.CKA_CLASS, value: CLASS_OF[keyClass] },
      ]);
      try {
        found = lib.C_FindObjects(session, 2);
      } finally {
        lib.C_FindObjectsFinal(session);
      }
    } catch (err) {
      throw toHsmException(err, 'C_FindObjects');
    }
    if (found.length === 0 && !this.sessionLoggedIn(session)) {
      // Private objects are invisible without a login: the key is not missing, the login is.
      throw new HsmException(HsmExceptionCode.NotLoggedIn, `the login to ${this.name} is gone`);
    }
    if (found.length !== 1) {
      const why = found.length === 0 ? 'no' : 'more than one';
      throw new HsmException(HsmExceptionCode.KeyNotFound, `${why} ${keyClass} key labelled ${label} in ${this.name}`);
    }
    const handle = found[0] as Buffer;
    let key: CachedKey;
    try {
      const keyType = (lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_KEY_TYPE }])[0]?.value as Buffer).readUIntLE(0, 4);
      let orderBytes: number | undefined;
      if (keyType === pkcs11js.CKK_EC) {
        const params = lib.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_EC_PARAMS }])[0]?.value as Buffer;
        orderBytes = CURVES[params.toString('hex')]?.orderBytes;
      }
      key = { handle, keyType, ...(orderBytes ? { orderBytes } : {}) };
    } catch (err) {
      throw toHsmException(err, 'C_GetAttributeValue');
    }
    this.keys.set(label, keyClass, key);
    return key;
  }

  /**
   * Stops taking work, waits (at most `timeoutMs`) for running work, then logs out and
   * closes every session. Idempotent.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    this.closing = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new HsmException(HsmExceptionCode.PoolClosed, `pool ${this.name} is closing`));
    if (this.open > this.idle.length) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        this.idleWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    const { lib, counters } = this.options.module;
    const [first] = this.idle;
    if (first && this.loggedIn) {
      try {
        lib.C_Logout(first);
      } catch {
        // Already logged out (or the device is gone): closing the sessions is what matters.
      }
    }
    this.loggedIn = false;
    this.options.loginMarker?.clear();
    for (const session of this.idle.splice(0)) {
      this.closeQuietly(session);
      counters.sessionsClosed += 1;
      this.open -= 1;
    }
    this.keys.clear();
    this.closed = true;
  }

  private async useSession<T>(session: Buffer, work: (session: Buffer) => Promise<T>): Promise<T> {
    let broken = false;
    try {
      // Checked before awaiting: each await costs a turn of the microtask queue on every operation.
      if (!this.loggedIn) await this.ensureLoggedIn(session);
      const faults = this.options.faults;
      if (faults && faultsSet(faults.active)) await faults.before();
      return await work(session);
    } catch (err) {
      const failure = toHsmException(err, `operation in ${this.name}`);
      if (failure.code === HsmExceptionCode.NotLoggedIn) this.loggedIn = false;
      broken = HSM_ERROR_TRAITS[failure.code].replaceSession;
      throw failure;
    } finally {
      this.release(session, broken);
    }
  }

  private async acquire(deadline: number | undefined): Promise<Buffer> {
    const session = this.idle.pop();
    if (session) return session;
    if (this.open < this.options.size) return this.openSession();
    const granted = await new Promise<Buffer | null>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      this.waiters.push(waiter);
      if (deadline !== undefined) {
        const timer = setTimeout(() => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(new HsmException(HsmExceptionCode.PoolTimeout, `no free session in ${this.name} before the deadline`));
        }, Math.max(0, deadline - Date.now()));
        waiter.resolve = (s) => {
          clearTimeout(timer);
          resolve(s);
        };
        waiter.reject = (e) => {
          clearTimeout(timer);
          reject(e);
        };
      }
    });
    // null: a broken session was closed, so this waiter may open a fresh one.
    return granted ?? this.openSession();
  }

  private openSession(): Buffer {
    const { lib, counters } = this.options.module;
    this.open += 1;
    try {
      const session = lib.C_OpenSession(this.options.slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      counters.opened();
      return session;
    } catch (err) {
      this.open -= 1;
      this.handOver(null);
      throw toHsmException(err, 'C_OpenSession');
    }
  }

  private release(session: Buffer, broken: boolean): void {
    if (broken || this.closing) {
      if (broken || this.closed) {
        this.closeQuietly(session);
        this.options.module.counters.sessionsClosed += 1;
        this.open -= 1;
        this.handOver(null);
      } else {
        this.idle.push(session);
      }
    } else if (!this.handOver(session)) {
      this.idle.push(session);
    }
    if (this.open === this.idle.length) for (const notify of this.idleWaiters.splice(0)) notify();
  }

  /** Gives a session (or, with null, the right to open one) to the first waiter. */
  private handOver(session: Buffer | null): boolean {
    const waiter = this.waiters.shift();
    if (!waiter) return false;
    waiter.resolve(session);
    return true;
  }

  private ensureLoggedIn(session: Buffer): Promise<void> {
    if (this.loggedIn) return Promise.resolve();
    this.loggingIn ??= this.login(session).finally(() => (this.loggingIn = undefined));
    return this.loggingIn;
  }

  private async login(session: Buffer): Promise<void> {
    const pin = await this.options.pin();
    const { lib, counters } = this.options.module;
    try {
      counters.logins += 1;
      lib.C_Login(session, pkcs11js.CKU_USER, pin);
    } catch (err) {
      // The login belongs to the application and slot: another pool of this library
      // instance (or an earlier login this pool lost track of) already did it.
      if (!isCkr(err, 'CKR_USER_ALREADY_LOGGED_IN')) throw toHsmException(err, `C_Login to ${this.name}`);
    }
    this.loggedIn = true;
    this.options.loginMarker?.mark();
  }

  private sessionLoggedIn(session: Buffer): boolean {
    try {
      const { state } = this.options.module.lib.C_GetSessionInfo(session);
      return state === CKS_RO_USER_FUNCTIONS || state === CKS_RW_USER_FUNCTIONS;
    } catch (err) {
      throw toHsmException(err, 'C_GetSessionInfo');
    }
  }

  private closeQuietly(session: Buffer): void {
    try {
      this.options.module.lib.C_CloseSession(session);
    } catch {
      // The session is already gone; nothing else to release.
    }
  }
}

/** `work`'s outcome, or `PoolTimeout` once `deadline` passes first (the work keeps running; its outcome is still observed). */
function raceDeadline<T>(work: Promise<T>, deadline: number, name: string): Promise<T> {
  // One promise and one timer per operation: no Promise.race, whose extra promises every request would pay for.
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new HsmException(HsmExceptionCode.PoolTimeout, `operation in ${name} did not finish before the deadline`)),
      Math.max(0, deadline - Date.now()),
    );
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      // What a pool's work rejects with is always an Error (an HsmException from useSession).
      (err: Error) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** Is any fault configured? Without one, an operation skips the injector entirely. */
function faultsSet(settings: FaultSettings): boolean {
  return (settings.errorRate ?? 0) > 0 || (settings.latencyMs ?? 0) > 0 || settings.hang === true;
}

import { join } from 'node:path';
import type { ClusterCrypto, ClusterHandle } from '@keyfleet/gateway';
import { FaultInjector, HsmCrypto, LoginMarker, Pkcs11Counters, Pkcs11Module, SessionPool, toHsmException, type HsmException, type Pkcs11Offload, type SessionPoolStats } from '@keyfleet/hsm';
import type { Bulkhead, ClusterBreaker } from '@keyfleet/resilience';
import type { ClusterPoolConfig } from '../config/crypto-gateway.config';
import type { SecretsCredentials } from './secrets-credentials';

/** What building a pool needs besides the cluster's own settings. */
export interface PoolEnvironment {
  readonly libraryPath: string;
  /** Where isolated module copies go. */
  readonly stateDir: string;
  readonly loginMarkerDir?: string;
  readonly credentials: SecretsCredentials;
  /** Worker threads for the PKCS#11 operations; unset: main thread and libuv pool. */
  readonly offload?: Pkcs11Offload;
}

interface PoolBundle {
  readonly module: Pkcs11Module;
  readonly pool: SessionPool;
  readonly crypto: HsmCrypto;
  readonly settings: ClusterPoolConfig;
}

const shared = new Map<string, Pkcs11Module>();

/** How long a cluster whose pool could not be built waits before the next attempt. */
const REBUILD_INTERVAL_MS = 5_000;

/**
 * One cluster as the gateway runs it: its session pool (one crypto user), behind a bulkhead
 * and a circuit breaker. `reconnect` switches the pool to other credentials (another crypto
 * user, or a rotated password) without failing requests: new requests go to the new pool at
 * once while the old one finishes what it has, then logs out and closes.
 */
export class ClusterRuntime implements ClusterHandle {
  /** Test configuration only (GATEWAY_FAULTS=on); kept across reconnects. */
  readonly faults = new FaultInjector();
  /** Attempts on this cluster, and how many failed (any reason). */
  operations = 0;
  failures = 0;
  private current: PoolBundle | undefined;
  private draining = false;
  private wanted: ClusterPoolConfig;
  private buildError: HsmException | undefined;
  private lastBuild = 0;

  /**
   * A pool that cannot be built (token missing, library not loadable) does not stop the
   * gateway: the cluster answers with that error (which opens its breaker, so routing skips
   * it) and the pool is built again at most every 5 s, when traffic asks for it.
   */
  constructor(
    settings: ClusterPoolConfig,
    private readonly env: PoolEnvironment,
    readonly breaker: ClusterBreaker,
    readonly bulkhead: Bulkhead,
  ) {
    this.wanted = settings;
    this.tryBuild();
  }

  get id(): string {
    return this.wanted.id;
  }

  get crypto(): ClusterCrypto {
    if (!this.current && Date.now() - this.lastBuild >= REBUILD_INTERVAL_MS) this.tryBuild();
    return this.current?.crypto ?? unavailableCrypto(this.buildError);
  }

  /** Why the pool could not be built, if it could not. */
  get startError(): HsmException | undefined {
    return this.current ? undefined : this.buildError;
  }

  /** True while the breaker is open or the cluster is drained: the router sends it nothing. */
  get unavailable(): boolean {
    return this.draining || this.breaker.state === 'open';
  }

  /** True between `drain` and `resume`. */
  get drained(): boolean {
    return this.draining;
  }

  /**
   * Takes the cluster out of routing (also as a retry's last resort) and waits until what it
   * has in flight or queued is done, or `deadline` passes. @returns what was still running then
   */
  async drain(deadline: number): Promise<{ inFlight: number; queued: number }> {
    this.draining = true;
    while ((this.bulkhead.inFlight > 0 || this.bulkhead.queued > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { inFlight: this.bulkhead.inFlight, queued: this.bulkhead.queued };
  }

  /** Puts a drained cluster back into routing (its weights apply again). */
  resume(): void {
    this.draining = false;
  }

  /** Forgets the cached handles of a label (its objects changed: made, deleted, replicated). */
  invalidateKey(label: string): void {
    this.current?.pool.keys.invalidate(label);
  }

  get settings(): ClusterPoolConfig {
    return this.wanted;
  }

  /** The PKCS#11 counters of the current pool's library instance (zero while there is none). */
  get counters(): Pkcs11Counters {
    return this.current?.module.counters ?? new Pkcs11Counters();
  }

  guard<T>(work: () => Promise<T>, deadline?: number): Promise<T> {
    this.operations += 1;
    // The deadline bounds the wait for a bulkhead slot too: a queued call leaves when it passes.
    return this.bulkhead.run(() => this.breaker.fire(work), deadline === undefined ? {} : { deadline }).catch((err: unknown) => {
      this.failures += 1;
      throw err;
    });
  }

  /** Logs the pool in ahead of traffic (one session), so a bad credential shows at start. */
  async warm(): Promise<void> {
    await this.crypto.random(1);
  }

  /** Moves the cluster to another crypto user or password (from `secretId`, `tokenLabel`); drains the old pool. */
  async reconnect(change: Partial<Pick<ClusterPoolConfig, 'secretId' | 'tokenLabel'>>): Promise<void> {
    const old = this.current;
    const next = this.build({ ...this.wanted, ...change });
    this.wanted = next.settings;
    this.current = next;
    if (old) await this.retire(old);
  }

  stats(): {
    pool: SessionPoolStats;
    breaker: string;
    errorPercentage: number;
    drained: boolean;
    inFlight: number;
    queued: number;
    crypto: { logins: number; objectSearches: number };
  } {
    const { logins, objectSearches } = this.counters;
    return {
      pool: this.current?.pool.stats() ?? { size: this.wanted.poolSize, open: 0, busy: 0, waiting: 0, loggedIn: false },
      breaker: this.breaker.state,
      errorPercentage: this.breaker.errorPercentage,
      drained: this.draining,
      inFlight: this.bulkhead.inFlight,
      queued: this.bulkhead.queued,
      crypto: { logins, objectSearches },
    };
  }

  async close(): Promise<void> {
    this.breaker.shutdown();
    this.bulkhead.close();
    if (this.current) await this.retire(this.current);
  }

  private tryBuild(): void {
    this.lastBuild = Date.now();
    try {
      this.current = this.build(this.wanted);
      this.buildError = undefined;
    } catch (err) {
      this.buildError = toHsmException(err, `starting the pool of ${this.wanted.id}`);
    }
  }

  private build(settings: ClusterPoolConfig): PoolBundle {
    const offload = this.env.offload ? { offload: this.env.offload } : {};
    const module = settings.isolatedModule
      ? Pkcs11Module.open({ libraryPath: this.env.libraryPath, isolatedCopyDir: join(this.env.stateDir, 'modules'), ...offload })
      : sharedModule(this.env.libraryPath, this.env.offload);
    const pool = new SessionPool({
      name: `${settings.id}/${settings.tokenLabel}`,
      module,
      slot: module.slotByTokenLabel(settings.tokenLabel),
      pin: () => this.env.credentials.pin(settings.secretId, settings.pinFormat),
      size: settings.poolSize,
      faults: this.faults,
      ...(this.env.loginMarkerDir ? { loginMarker: new LoginMarker(this.env.loginMarkerDir, settings.tokenLabel) } : {}),
    });
    return { module, pool, crypto: new HsmCrypto(pool, settings.ivSource), settings };
  }

  private async retire(bundle: PoolBundle): Promise<void> {
    await bundle.pool.close();
    if (bundle.settings.isolatedModule) bundle.module.close();
  }
}

/** The crypto of a cluster without a pool: every call fails with the reason the pool could not be built. */
function unavailableCrypto(reason: HsmException | undefined): ClusterCrypto {
  const fail = () => Promise.reject(reason ?? new Error('the cluster pool is not available'));
  return { encrypt: fail, decrypt: fail, sign: fail, verify: fail, mac: fail, verifyMac: fail, random: fail, publicKey: fail };
}

function sharedModule(libraryPath: string, offload: Pkcs11Offload | undefined): Pkcs11Module {
  let module = shared.get(libraryPath);
  if (!module) {
    module = Pkcs11Module.open({ libraryPath, ...(offload ? { offload } : {}) });
    shared.set(libraryPath, module);
  }
  return module;
}

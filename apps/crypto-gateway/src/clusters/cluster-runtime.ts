import { join } from 'node:path';
import type { ClusterHandle } from '@keyfleet/gateway';
import { FaultInjector, HsmCrypto, LoginMarker, Pkcs11Module, SessionPool, type SessionPoolStats } from '@keyfleet/hsm';
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
}

interface PoolBundle {
  readonly module: Pkcs11Module;
  readonly pool: SessionPool;
  readonly crypto: HsmCrypto;
  readonly settings: ClusterPoolConfig;
}

const shared = new Map<string, Pkcs11Module>();

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
  private current: PoolBundle;

  constructor(
    settings: ClusterPoolConfig,
    private readonly env: PoolEnvironment,
    readonly breaker: ClusterBreaker,
    readonly bulkhead: Bulkhead,
  ) {
    this.current = this.build(settings);
  }

  get id(): string {
    return this.current.settings.id;
  }

  get crypto(): HsmCrypto {
    return this.current.crypto;
  }

  get unavailable(): boolean {
    return this.breaker.state === 'open';
  }

  get settings(): ClusterPoolConfig {
    return this.current.settings;
  }

  /** The PKCS#11 counters of the current pool's library instance. */
  get counters(): Pkcs11Module['counters'] {
    return this.current.module.counters;
  }

  guard<T>(work: () => Promise<T>): Promise<T> {
    this.operations += 1;
    return this.bulkhead.run(() => this.breaker.fire(work)).catch((err: unknown) => {
      this.failures += 1;
      throw err;
    });
  }

  /** Logs the pool in ahead of traffic (one session), so a bad credential shows at start. */
  async warm(): Promise<void> {
    await this.current.crypto.random(1);
  }

  /** Moves the cluster to another crypto user or password (from `secretId`, `tokenLabel`); drains the old pool. */
  async reconnect(change: Partial<Pick<ClusterPoolConfig, 'secretId' | 'tokenLabel'>>): Promise<void> {
    const old = this.current;
    this.current = this.build({ ...old.settings, ...change });
    await this.retire(old);
  }

  stats(): { pool: SessionPoolStats; breaker: string; inFlight: number; queued: number; crypto: { logins: number; objectSearches: number } } {
    const { logins, objectSearches } = this.current.module.counters;
    return {
      pool: this.current.pool.stats(),
      breaker: this.breaker.state,
      inFlight: this.bulkhead.inFlight,
      queued: this.bulkhead.queued,
      crypto: { logins, objectSearches },
    };
  }

  async close(): Promise<void> {
    this.breaker.shutdown();
    this.bulkhead.close();
    await this.retire(this.current);
  }

  private build(settings: ClusterPoolConfig): PoolBundle {
    const module = settings.isolatedModule
      ? Pkcs11Module.open({ libraryPath: this.env.libraryPath, isolatedCopyDir: join(this.env.stateDir, 'modules') })
      : sharedModule(this.env.libraryPath);
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

function sharedModule(libraryPath: string): Pkcs11Module {
  let module = shared.get(libraryPath);
  if (!module) {
    module = Pkcs11Module.open({ libraryPath });
    shared.set(libraryPath, module);
  }
  return module;
}

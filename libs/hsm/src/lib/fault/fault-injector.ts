import { HsmException, HsmExceptionCode } from '../hsm.exception';

/** Faults in the PKCS#11 data path of one pool; test configuration only. */
export interface FaultSettings {
  /** Share of operations that fail with a retryable `InjectedFault`, 0..1. */
  readonly errorRate?: number;
  /** Added to every operation, in ms. */
  readonly latencyMs?: number;
  /** When true, operations stall (holding their session, as a hung HSM call does) until the faults are changed or cleared. */
  readonly hang?: boolean;
}

/**
 * Injects failures, latency or hangs before an operation reaches the library. Off unless
 * `set` was called; the gateway only exposes it when its test configuration says so.
 */
export class FaultInjector {
  private settings: FaultSettings = {};
  private releaseHung: (() => void) | undefined;
  private hung: Promise<void> = Promise.resolve();

  constructor(private readonly random: () => number = Math.random) {}

  set(settings: FaultSettings): void {
    const rate = settings.errorRate ?? 0;
    if (!(rate >= 0 && rate <= 1)) throw new HsmException(HsmExceptionCode.InvalidInput, 'errorRate must be within 0..1');
    this.releaseHung?.();
    this.releaseHung = undefined;
    this.settings = { ...settings };
    if (settings.hang) this.hung = new Promise((resolve) => (this.releaseHung = resolve));
  }

  clear(): void {
    this.set({});
  }

  get active(): FaultSettings {
    return this.settings;
  }

  /** Applies the configured faults; resolves when the operation may go ahead. */
  async before(): Promise<void> {
    const { errorRate = 0, latencyMs = 0, hang = false } = this.settings;
    if (hang) await this.hung;
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (errorRate > 0 && this.random() < errorRate) {
      throw new HsmException(HsmExceptionCode.InjectedFault, 'injected fault (test configuration)');
    }
  }
}

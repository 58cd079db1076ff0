/** The time source of the emulator: tests advance it instead of waiting. */
export interface Clock {
  now(): Date;
}

/** Wall-clock time plus an offset that only grows (advanced through the admin endpoint). */
export class AdjustableClock implements Clock {
  private offsetMs = 0;

  constructor(private readonly base: () => number = Date.now) {}

  now(): Date {
    return new Date(this.base() + this.offsetMs);
  }

  /** Moves time forward; the emulator never goes back in time. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
    this.offsetMs += ms;
  }

  get offset(): number {
    return this.offsetMs;
  }
}

/** AWS JSON timestamps: epoch seconds, fractional. */
export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

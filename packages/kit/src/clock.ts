/**
 * The injectable clock. Every rule that depends on time (due dates, overdue scans, hold expiry) reads
 * `clock.now()`, never `new Date()`, so the test clock (SHELFWISE_TEST_CLOCK=1) can move all of them.
 */
export interface Clock {
  now(): Date;
}

/** The wall clock plus an offset that only the test clock may move forward. */
export class ServiceClock implements Clock {
  private offsetMs = 0;

  constructor(private readonly testClockEnabled = false) {}

  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }

  get isTestClock(): boolean {
    return this.testClockEnabled;
  }

  /** Current offset from the wall clock, in milliseconds. */
  get offset(): number {
    return this.offsetMs;
  }

  /** Moves the clock forward; refused unless this is a test clock. Returns the new time. */
  advance(seconds: number): Date {
    if (!this.testClockEnabled) throw new Error('The clock can only be moved when SHELFWISE_TEST_CLOCK=1.');
    if (!Number.isInteger(seconds) || seconds < 0) throw new Error('The clock only moves forward by a whole number of seconds.');
    this.offsetMs += seconds * 1000;
    return this.now();
  }

  /** Sets the offset (used when another service announces an advance); never moves backwards. */
  syncOffset(offsetMs: number): void {
    if (this.testClockEnabled && offsetMs > this.offsetMs) this.offsetMs = offsetMs;
  }
}

/** Bus channel on which a moved test clock announces its offset to every other process. */
export const CLOCK_CHANNEL = 'clock.advanced';

/**
 * Keeps `clock` in step with test-clock moves made in other processes (each announces its new offset on
 * the bus). In one process every service shares one clock, so this only matters for separate processes.
 * Does nothing for a clock that is not a test clock. Returns the unsubscribe function.
 */
export async function followClock(
  clock: ServiceClock,
  bus: { subscribe(channel: string, handler: (message: unknown) => void): Promise<() => Promise<void>> },
): Promise<() => Promise<void>> {
  if (!clock.isTestClock) return async () => undefined;
  return bus.subscribe(CLOCK_CHANNEL, (message) => {
    const offsetMs = (message as { offsetMs?: unknown } | null)?.offsetMs;
    if (typeof offsetMs === 'number' && Number.isFinite(offsetMs)) clock.syncOffset(offsetMs);
  });
}

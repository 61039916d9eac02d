import type { Logger } from './logger.js';

/**
 * A background job run every `intervalMs` (0: never on its own, only when `runNow()` is called). Runs
 * never overlap: a tick that finds the previous run still going is skipped. `stop()` clears the timer and
 * waits for a run in progress, so the database is never closed under it.
 */
export class PeriodicJob<T> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<T | undefined> | undefined;
  private stopped = false;

  constructor(
    private readonly name: string,
    private readonly run: () => Promise<T>,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  /** Starts the interval (and, with `immediately`, one run right away, in the background). */
  start(immediately: boolean): void {
    if (immediately) void this.runNow();
    if (this.intervalMs > 0) {
      this.timer = setInterval(() => void this.runNow(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Runs once now (or joins the run in progress); undefined when it failed (logged) or was stopped. */
  runNow(): Promise<T | undefined> {
    if (this.stopped) return Promise.resolve(undefined);
    this.running ??= this.run()
      .catch((err: unknown) => {
        this.logger.error({ err, job: this.name }, `${this.name} failed; it runs again on the next tick`);
        return undefined;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}

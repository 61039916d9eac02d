import type { EventBus } from './bus.js';
import { DOMAIN_EVENTS_CHANNEL, DOMAIN_EVENTS_STREAM, type DomainEvent } from './events.js';
import type { Logger } from './logger.js';

/**
 * Sends one domain event the way every outbox relay does: appended to the durable stream first (this
 * must succeed: when it throws, the relay's transaction rolls back and the row goes out on a later pass),
 * then published on the pub/sub channel for live watchers (at-most-once: a failure there is logged and
 * does not hold the event back, the stream already has it).
 */
export async function emitDomainEvent(bus: EventBus, event: DomainEvent, logger?: Logger): Promise<void> {
  await bus.append(DOMAIN_EVENTS_STREAM, event);
  try {
    await bus.publish(DOMAIN_EVENTS_CHANNEL, event);
  } catch (err) {
    logger?.warn({ err, eventId: event.id }, 'could not publish a domain event live; it is in the stream');
  }
}

/**
 * One batch of an outbox: locks up to `limit` unpublished rows (`FOR UPDATE SKIP LOCKED`, so two
 * instances never take the same row), calls `publish` for each, oldest first, marks them published and
 * commits; returns how many it sent. When `publish` throws nothing is marked and the rows stay for a later
 * pass (consumers deduplicate by event id, so sending one again is harmless).
 */
export type OutboxBatch = (limit: number, publish: (event: DomainEvent) => Promise<void>) => Promise<number>;

/** How many events one relay transaction carries, unless told otherwise. */
export const OUTBOX_BATCH = 100;

/** Relays an outbox until it is empty (batch after batch); returns how many events went out. */
export async function relayOutbox(options: { bus: EventBus; batch: OutboxBatch; limit?: number; logger?: Logger }): Promise<number> {
  const limit = Math.max(1, options.limit ?? OUTBOX_BATCH);
  let sent = 0;
  for (;;) {
    const n = await options.batch(limit, (event) => emitDomainEvent(options.bus, event, options.logger));
    sent += n;
    if (n < limit) return sent;
  }
}

/**
 * The relay of one service's outbox as a background job: `runNow()` after each commit that wrote an
 * event (the quick path), and every `intervalMs` for whatever a crash or a failed publish left behind —
 * including events committed by an instance that died before relaying them. Runs never overlap (a call
 * during a run joins it, then runs once more, so a commit made during a run is never missed); `stop()`
 * waits for the run in progress.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private again: Promise<number> | undefined;
  private stopped = false;

  constructor(
    private readonly options: { name: string; bus: EventBus; batch: OutboxBatch; logger: Logger; intervalMs: number; limit?: number },
  ) {}

  /** Starts the interval (0: none). A service usually awaits one `runNow()` first (what an earlier instance left). */
  start(): void {
    if (this.stopped || this.timer) return;
    if (this.options.intervalMs > 0) {
      this.timer = setInterval(() => void this.runNow(), this.options.intervalMs);
      this.timer.unref();
    }
  }

  /** Relays what is unpublished now; resolves with how many went out (0 when it failed: logged, retried later). */
  runNow(): Promise<number> {
    if (this.stopped) return Promise.resolve(0);
    if (this.running) {
      // Rows committed after the running pass locked its batch are picked up by one more pass.
      this.again ??= this.running.then(() => {
        this.again = undefined;
        return this.runNow();
      });
      return this.again;
    }
    const run = relayOutbox(this.options)
      .catch((err: unknown) => {
        this.options.logger.error({ err, relay: this.options.name }, 'outbox relay failed; it runs again on the next tick');
        return 0;
      })
      .finally(() => {
        if (this.running === run) this.running = undefined;
      });
    this.running = run;
    return run;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.again;
    await this.running;
  }
}

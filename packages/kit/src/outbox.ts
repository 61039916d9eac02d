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
 * Sends one event of an outbox to where it goes; throws when it could not be sent, so the relay keeps the
 * row for a later pass. The default for domain events is {@link emitDomainEvent}.
 */
export type OutboxEmit<E> = (bus: EventBus, event: E, logger?: Logger) => Promise<void>;

/**
 * One batch of an outbox: locks up to `limit` unpublished rows (`FOR UPDATE SKIP LOCKED`, so two
 * instances never take the same row), calls `publish` for each, oldest first, marks them published and
 * commits; returns how many it sent. When `publish` throws nothing is marked and the rows stay for a later
 * pass (consumers deduplicate by event id, so sending one again is harmless).
 */
export type OutboxBatch<E = DomainEvent> = (limit: number, publish: (event: E) => Promise<void>) => Promise<number>;

/** How many events one relay transaction carries, unless told otherwise. */
export const OUTBOX_BATCH = 100;

/**
 * Where a relay sends events: domain events default to {@link emitDomainEvent}; any other event type
 * must say how it is sent (`emit`).
 */
export type OutboxRelayOptions<E> = {
  bus: EventBus;
  batch: OutboxBatch<E>;
  limit?: number;
  logger?: Logger;
} & ([E] extends [DomainEvent] ? { emit?: OutboxEmit<E> } : { emit: OutboxEmit<E> });

/** Relays an outbox until it is empty (batch after batch); returns how many events went out. */
export async function relayOutbox<E = DomainEvent>(options: OutboxRelayOptions<E>): Promise<number> {
  const limit = Math.max(1, options.limit ?? OUTBOX_BATCH);
  // Only a DomainEvent outbox may leave `emit` out (the options type says so).
  const emit = options.emit ?? (emitDomainEvent as unknown as OutboxEmit<E>);
  let sent = 0;
  for (;;) {
    const n = await options.batch(limit, (event) => emit(options.bus, event, options.logger));
    sent += n;
    if (n < limit) return sent;
  }
}

/**
 * A statement runner of a subgraph's Prisma client: the interactive transaction an outbox batch runs in
 * (`Prisma.TransactionClient` fits).
 */
export interface OutboxSql {
  $queryRawUnsafe<T = unknown>(query: string, ...values: unknown[]): PromiseLike<T>;
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
}

/**
 * An outbox table as the relay reads it. The table has a unique `"id"` (any type) and a nullable
 * `"publishedAt"` (Prisma's `DateTime?`, a timestamp without time zone holding UTC); whole rows are read,
 * so `Row` is the table's Prisma model (raw reads give the same JavaScript types: Date, parsed JSON,
 * strings for uuid, bigint for BigInt).
 */
export interface OutboxTable<Row extends { id: unknown }, E> {
  /** The table's name, as Prisma names it (`"FineEvent"`); quoted as an identifier. */
  table: string;
  /** The order rows go out in, oldest first; default `occurredAt`, `id`. Back it with an index on `publishedAt` first. */
  orderBy?: readonly string[];
  /** The message sent for a row. */
  toEvent(row: Row): E;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

function quoted(identifier: string): string {
  // Names come from code, never from input; the check keeps a typo from becoming broken SQL.
  if (!IDENTIFIER.test(identifier)) throw new Error(`"${identifier}" is not a plain SQL identifier (outbox table or column).`);
  return `"${identifier}"`;
}

/**
 * The {@link OutboxBatch} every outbox table shares, in one transaction (`transaction`, e.g.
 * `(work) => prisma.$transaction(work, { timeout: 30_000 })`): one statement locks up to `limit`
 * unpublished rows in `orderBy` order `FOR UPDATE SKIP LOCKED` (two instances never take the same row)
 * and sets their `publishedAt` to `publishedAt`; then each row is sent with `publish`, in that order, and
 * the transaction commits. When a `publish` throws, the transaction rolls back: no row stays marked and
 * the rows go out on a later pass.
 */
export async function publishOutboxBatch<Row extends { id: unknown }, E>(
  transaction: <T>(work: (tx: OutboxSql) => Promise<T>) => Promise<T>,
  outbox: OutboxTable<Row, E>,
  limit: number,
  publish: (event: E) => Promise<void>,
  publishedAt: Date,
): Promise<number> {
  const table = quoted(outbox.table);
  const order = (outbox.orderBy ?? ['occurredAt', 'id']).map(quoted).join(', ');
  return transaction(async (tx) => {
    // Marking first is safe: the mark commits only after every publish of the batch succeeded.
    const rows = await tx.$queryRawUnsafe<Row[]>(
      `WITH picked AS (
         SELECT "id" FROM ${table} WHERE "publishedAt" IS NULL ORDER BY ${order} LIMIT $1 FOR UPDATE SKIP LOCKED
       ), marked AS (
         UPDATE ${table} AS t SET "publishedAt" = ($2::timestamptz AT TIME ZONE 'UTC') FROM picked WHERE t."id" = picked."id" RETURNING t.*
       )
       SELECT * FROM marked ORDER BY ${order}`,
      limit,
      publishedAt.toISOString(),
    );
    for (const row of rows) await publish(outbox.toEvent(row));
    return rows.length;
  });
}

/**
 * The relay of one service's outbox as a background job: `runNow()` after each commit that wrote an
 * event (the quick path), and every `intervalMs` for whatever a crash or a failed publish left behind —
 * including events committed by an instance that died before relaying them. Runs never overlap (a call
 * during a run joins it, then runs once more, so a commit made during a run is never missed); `stop()`
 * waits for the run in progress.
 */
export class OutboxRelay<E = DomainEvent> {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private again: Promise<number> | undefined;
  private stopped = false;

  constructor(private readonly options: OutboxRelayOptions<E> & { name: string; logger: Logger; intervalMs: number }) {}

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

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import {
  BOOK_AVAILABILITY_RESERVATIONS_GROUP,
  BOOK_AVAILABILITY_STREAM,
  createLogger,
  getEnvNum,
  InMemoryBus,
  PeriodicJob,
  isBookAvailabilityEvent,
  ServiceClient,
  ServiceClock,
  serveSubgraph,
  subgraphDirectoryFromEnv,
  type ServiceOptions,
  type SubgraphHandle,
} from '@shelfwise/kit';
import { gql } from 'graphql-tag';
import { BooksClient, LoansClient, type ActiveLoans } from './clients.js';
import { createContext, type ReservationsServices } from './context.js';
import { QueueRepository } from './data/QueueRepository.js';
import { ReservationRepository } from './data/ReservationRepository.js';
import { openReservationsDatabase, type ReservationsDatabase } from './data/client.js';
import { HoldQueue, type ExpiryReport, type HandoffHooks, type ReconcileReport } from './queue.js';
import { access } from './resolvers/access.js';
import { resolvers } from './resolvers/index.js';

export const typeDefs = gql(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

/** How the hold queue's background work runs (docs/operations.md, .env.example). */
export interface HoldSettings {
  /** Expiry scanner interval; 0 runs it only at start (and when called). */
  scanIntervalMs: number;
  /** Reconciler interval; 0 runs it only at start (and when called). */
  reconcileIntervalMs: number;
  /** A handoff younger than this (service clock) is left to the request still running it. */
  handoffStaleMs: number;
  /** Days to collect a copy handed on by this service (new copies, expiry, cancellation) or when loans does not say. */
  pickupDays: number;
}

/** The settings from SHELFWISE_RESERVATIONS_* variables, with their defaults. */
export function holdSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): HoldSettings {
  return {
    scanIntervalMs: getEnvNum('SHELFWISE_RESERVATIONS_SCAN_INTERVAL_SECONDS', 60, env) * 1000,
    reconcileIntervalMs: getEnvNum('SHELFWISE_RESERVATIONS_RECONCILE_INTERVAL_SECONDS', 30, env) * 1000,
    handoffStaleMs: getEnvNum('SHELFWISE_RESERVATIONS_HANDOFF_STALE_SECONDS', 60, env) * 1000,
    pickupDays: getEnvNum('SHELFWISE_RESERVATIONS_PICKUP_DAYS', 3, env),
  };
}

export interface ReservationsOptions extends ServiceOptions {
  /** Overrides the SHELFWISE_RESERVATIONS_* settings (tests). */
  holds?: Partial<HoldSettings>;
  /** Test seam between handoff steps; never set in production. */
  handoffHooks?: HandoffHooks;
  /** Overrides the loans check of reserveBook (tests; see LoansClient). */
  activeLoans?: ActiveLoans;
  /**
   * How this instance reads books' availability stream (consumer group `reservations`): its consumer name
   * (unique per process; default host, pid and a random suffix) and after how long an event another
   * instance took but never acknowledged (it crashed) is taken over (default 30 s).
   */
  availability?: { consumerName?: string; claimIdleMs?: number };
}

export interface ReservationsHandle extends SubgraphHandle {
  database: ReservationsDatabase;
  reservations: ReservationRepository;
  queue: QueueRepository;
  holds: HoldQueue;
  /** The expiry scanner: `scanOnce()` runs one pass (or joins the one in progress). */
  scanOnce(): Promise<ExpiryReport | undefined>;
  /** The handoff reconciler: `reconcileOnce()` runs one pass (or joins the one in progress). */
  reconcileOnce(): Promise<ReconcileReport | undefined>;
  /** Resolves once the availability listener has caught up with books' stream and no fill is running (tests). */
  availabilitySettled(): Promise<void>;
}

/**
 * Starts the reservations subgraph with its hold queue: it consumes books' availability stream (free
 * copies go to the queue; events appended while it was down are read when it starts), runs the expiry
 * scanner and the handoff reconciler once at start and then on their intervals; `stop()` stops them,
 * drains requests and closes the database.
 */
export async function start(options: ReservationsOptions = {}): Promise<ReservationsHandle> {
  const logger = options.logger ?? createLogger('reservations');
  const clock = options.clock ?? new ServiceClock();
  const bus = options.bus ?? new InMemoryBus(logger);
  const settings = { ...holdSettingsFromEnv(), ...options.holds };
  const database = await openReservationsDatabase({ ...options, logger });
  const reservations = new ReservationRepository(database.prisma);
  const queue = new QueueRepository(database.prisma);
  const client = new ServiceClient('reservations', options.services ?? subgraphDirectoryFromEnv(), logger);
  const holds = new HoldQueue({
    queue,
    books: new BooksClient(client),
    loans: options.activeLoans ?? new LoansClient(client),
    bus,
    clock,
    logger,
    pickupDays: settings.pickupDays,
    staleMs: settings.handoffStaleMs,
    hooks: options.handoffHooks,
  });
  const services: ReservationsServices = { clock, reservations, queueRepository: queue, holds, defaultPickupDays: settings.pickupDays };
  const scanner = new PeriodicJob('hold expiry scanner', () => holds.expireOnce(), settings.scanIntervalMs, logger);
  const reconciler = new PeriodicJob('handoff reconciler', () => holds.reconcile(), settings.reconcileIntervalMs, logger);

  // Books appends every change to a book's copies to a durable stream, read in the consumer group
  // `reservations` from where the group left off: an event sent while this service was down or its Redis
  // connection was being restored is handled when it is back (the pub/sub channel would have lost it).
  // At-least-once: a fill that failed is not acknowledged and comes back after claimIdleMs; fill is
  // idempotent (it re-reads the queue and the free copies under the book's lock), so a repeat is harmless.
  // Fills of one book run one after another in this process (and under the book's lock across processes).
  const filling = new Map<string, Promise<unknown>>();
  const onAvailability = async (message: unknown): Promise<void> => {
    if (!isBookAvailabilityEvent(message) || message.availableCopies <= 0) return;
    const bookId = message.bookId;
    const previous = filling.get(bookId) ?? Promise.resolve();
    const run = previous
      .catch(() => undefined)
      .then(() => holds.fill(bookId))
      .finally(() => {
        if (filling.get(bookId) === run) filling.delete(bookId);
      });
    filling.set(bookId, run);
    try {
      await run;
    } catch (err) {
      logger.warn({ err, bookId }, 'offering free copies to the hold queue failed; the event is delivered again');
      throw err;
    }
  };
  const consumerName =
    options.availability?.consumerName ?? `reservations-${hostname().replace(/\s/g, '_')}-${process.pid}-${randomBytes(4).toString('hex')}`;
  const stopConsuming = await bus.consume(BOOK_AVAILABILITY_STREAM, BOOK_AVAILABILITY_RESERVATIONS_GROUP, consumerName, onAvailability, {
    claimIdleMs: options.availability?.claimIdleMs ?? 30_000,
  });
  const unsubscribe = async () => {
    await stopConsuming();
    await Promise.allSettled(filling.values());
  };

  let handle: SubgraphHandle;
  try {
    handle = await serveSubgraph({
      name: 'reservations',
      typeDefs,
      resolvers,
      access,
      logger,
      service: { ...options, bus },
      database: {
        db: database.db,
        async close() {
          await unsubscribe();
          await Promise.all([scanner.stop(), reconciler.stop()]);
          await database.close();
        },
      },
      context: async (req) => createContext(req, services),
    });
  } catch (err) {
    await unsubscribe();
    throw err;
  }
  // Handoffs a crash left half-done are finished from the start; expired holds too.
  reconciler.start(true);
  scanner.start(true);
  return {
    ...handle,
    database,
    reservations,
    queue,
    holds,
    scanOnce: () => scanner.runNow(),
    reconcileOnce: () => reconciler.runNow(),
    availabilitySettled: async () => {
      await stopConsuming.settled();
      await Promise.allSettled(filling.values());
    },
  };
}

export type { ExpiryReport, HandoffHooks, ReconcileReport } from './queue.js';

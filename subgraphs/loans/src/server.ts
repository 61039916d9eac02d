import { readFileSync } from 'node:fs';
import {
  createLogger,
  getEnvNum,
  InMemoryBus,
  maxFineCentsFromEnv,
  PeriodicJob,
  ServiceClient,
  ServiceClock,
  serveSubgraph,
  subgraphDirectoryFromEnv,
  type ServiceOptions,
  type SubgraphHandle,
} from '@shelfwise/kit';
import { gql } from 'graphql-tag';
import { Circulation, type ReconcileReport, type SagaHooks } from './circulation.js';
import { BooksClient, HoldsClient, PaymentsClient, UsersClient } from './clients.js';
import { createContext, type LoansServices } from './context.js';
import { EventRepository } from './data/EventRepository.js';
import { LoanRepository } from './data/LoanRepository.js';
import { PolicyRepository } from './data/PolicyRepository.js';
import { openLoansDatabase, type LoansDatabase } from './data/client.js';
import { access } from './resolvers/access.js';
import { resolvers } from './resolvers/index.js';
import { DueDateScanner, type ScanReport } from './scanner.js';

export const typeDefs = gql(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

/** How the background work of circulation runs (docs/operations.md, "Circulation"). */
export interface CirculationSettings {
  /** Reconciler interval; 0 runs it only at start (and when called). */
  reconcileIntervalMs: number;
  /** A saga step younger than this (service clock) is left to the request still running it. */
  sagaStaleMs: number;
  /** Due-date scanner interval; 0 never scans on its own. */
  scanIntervalMs: number;
}

/** The settings from SHELFWISE_LOANS_* variables, with their defaults. */
export function circulationSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): CirculationSettings {
  return {
    reconcileIntervalMs: getEnvNum('SHELFWISE_LOANS_RECONCILE_INTERVAL_SECONDS', 30, env) * 1000,
    sagaStaleMs: getEnvNum('SHELFWISE_LOANS_SAGA_STALE_SECONDS', 60, env) * 1000,
    scanIntervalMs: getEnvNum('SHELFWISE_LOANS_SCAN_INTERVAL_SECONDS', 60, env) * 1000,
  };
}

export interface LoansOptions extends ServiceOptions {
  /** The largest single fine payments accepts; default SHELFWISE_MAX_FINE_CENTS (as payments reads it). */
  maxFineCents?: number;
  /** Overrides the SHELFWISE_LOANS_* settings (tests). */
  circulation?: Partial<CirculationSettings>;
  /** Test seam between saga steps (see SagaHooks); never set in production. */
  sagaHooks?: SagaHooks;
}

export interface LoansHandle extends SubgraphHandle {
  database: LoansDatabase;
  loans: LoanRepository;
  policies: PolicyRepository;
  circulation: Circulation;
  /** The reconciler: `runNow()` runs one pass (or joins the one in progress). */
  reconciler: PeriodicJob<ReconcileReport>;
  /** The due-date scanner: `runNow()` scans once. */
  scanner: PeriodicJob<ScanReport>;
}

/**
 * Starts the loans subgraph with its reconciler (one pass at start, then on its interval) and due-date
 * scanner; `stop()` stops both, drains requests and closes the database.
 */
export async function start(options: LoansOptions = {}): Promise<LoansHandle> {
  const logger = options.logger ?? createLogger('loans');
  const clock = options.clock ?? new ServiceClock();
  const bus = options.bus ?? new InMemoryBus(logger);
  const settings = { ...circulationSettingsFromEnv(), ...options.circulation };
  const database = await openLoansDatabase({ ...options, logger });
  const loans = new LoanRepository(database.prisma);
  const policies = new PolicyRepository(database.prisma, options.maxFineCents ?? maxFineCentsFromEnv());
  const client = new ServiceClient('loans', options.services ?? subgraphDirectoryFromEnv(), logger);
  const circulation = new Circulation({
    loans,
    policies,
    books: new BooksClient(client),
    payments: new PaymentsClient(client),
    holds: new HoldsClient(client),
    clock,
    logger,
    sagaStaleMs: settings.sagaStaleMs,
    hooks: options.sagaHooks,
  });
  const services: LoansServices = { clock, loans, policies, circulation, users: new UsersClient(client) };
  const reconciler = new PeriodicJob('reconciler', () => circulation.reconcile(), settings.reconcileIntervalMs, logger);
  const scanner = new PeriodicJob(
    'due-date scanner',
    () => new DueDateScanner(new EventRepository(database.prisma), bus, clock, logger).scanOnce(),
    settings.scanIntervalMs,
    logger,
  );
  const handle = await serveSubgraph({
    name: 'loans',
    typeDefs,
    resolvers,
    access,
    logger,
    service: { ...options, bus },
    database: {
      db: database.db,
      async close() {
        await Promise.all([reconciler.stop(), scanner.stop()]);
        await database.close();
      },
    },
    context: async (req) => createContext(req, services),
  });
  // Sagas a crash left half-done are finished from the start (those still younger than the stale
  // threshold on the next pass); the scanner's first tick comes after one interval.
  reconciler.start(true);
  scanner.start(false);
  return { ...handle, database, loans, policies, circulation, reconciler, scanner };
}

export type { ReconcileReport, SagaHooks, SagaStep } from './circulation.js';

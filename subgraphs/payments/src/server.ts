import { readFileSync } from 'node:fs';
import {
  createLogger,
  getEnvNum,
  InMemoryBus,
  OutboxRelay,
  ServiceClock,
  serveSubgraph,
  subgraphDirectoryFromEnv,
  type ServiceOptions,
  type SubgraphHandle,
} from '@shelfwise/kit';
import { gql } from 'graphql-tag';
import { createContext } from './context.js';
import { openPaymentsDatabase, type PaymentsDatabase } from './data/client.js';
import { FineRepository } from './data/FineRepository.js';
import { PaymentRepository } from './data/PaymentRepository.js';
import { checkMoneyConfig, moneyConfigFromEnv, type MoneyConfig } from './money.js';
import { UsersServicePatronDirectory, type PatronDirectory } from './patrons.js';
import { DeskPaymentProvider, type PaymentProvider } from './providers.js';
import { access } from './resolvers/access.js';
import { resolvers } from './resolvers/index.js';

export type { ChargeReceipt, ChargeRequest, PaymentProvider } from './providers.js';
export type { MoneyConfig } from './money.js';
export type { PatronDirectory } from './patrons.js';

export const typeDefs = gql(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export interface PaymentsOptions extends ServiceOptions {
  /** Currency and amount limits; default from SHELFWISE_CURRENCY and SHELFWISE_MAX_FINE_CENTS. */
  money?: MoneyConfig;
  /** Where money is taken; default the library desk ({@link DeskPaymentProvider}). */
  provider?: PaymentProvider;
  /** Whether a user exists (assessFine); default: ask the users service. */
  patrons?: PatronDirectory;
  /**
   * How often the outbox relay looks for events left unpublished (by a crash, or a failed publish), in ms;
   * 0: never on a timer. Default SHELFWISE_PAYMENTS_RELAY_INTERVAL_SECONDS (5 s).
   */
  relayIntervalMs?: number;
  /** Relay each fine's event right after its commit (default true; tests turn it off to simulate a crash). */
  relayAfterCommit?: boolean;
}

export interface PaymentsHandle extends SubgraphHandle {
  database: PaymentsDatabase;
  fines: FineRepository;
  payments: PaymentRepository;
  money: MoneyConfig;
  /** The outbox relay (FINE_ASSESSED events to the domain events stream and channel). */
  relay: OutboxRelay;
}

/** Starts the payments subgraph; `stop()` drains requests and closes the database. */
export async function start(options: PaymentsOptions = {}): Promise<PaymentsHandle> {
  const logger = options.logger ?? createLogger('payments');
  const clock = options.clock ?? new ServiceClock();
  const money = options.money ? checkMoneyConfig(options.money) : moneyConfigFromEnv();
  const bus = options.bus ?? new InMemoryBus(logger);
  const patrons = options.patrons ?? new UsersServicePatronDirectory(options.services ?? subgraphDirectoryFromEnv(), logger);
  const database = await openPaymentsDatabase({ ...options, logger });
  const fines = new FineRepository(database.prisma, clock, money);
  const payments = new PaymentRepository(database.prisma, clock, money, options.provider ?? new DeskPaymentProvider());
  const relay = new OutboxRelay({
    name: 'payments outbox',
    bus,
    batch: (limit, publish) => fines.publishPending(limit, publish),
    logger,
    intervalMs: options.relayIntervalMs ?? getEnvNum('SHELFWISE_PAYMENTS_RELAY_INTERVAL_SECONDS', 5) * 1000,
  });
  const afterCommit = options.relayAfterCommit === false ? () => Promise.resolve(0) : () => relay.runNow();
  const handle = await serveSubgraph({
    name: 'payments',
    typeDefs,
    resolvers,
    access,
    logger,
    service: options,
    database: {
      db: database.db,
      async close() {
        await relay.stop();
        await database.close();
      },
    },
    context: async (req) => createContext(req, { fines, payments, clock, bus, money, patrons, logger, relayEvents: afterCommit }),
  });
  // Events a previous instance committed and never relayed go out before start() returns (and then on
  // every tick): a fine committed just before a crash is announced by the next instance.
  await relay.runNow();
  relay.start();
  return { ...handle, database, fines, payments, money, relay };
}

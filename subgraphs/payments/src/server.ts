import { readFileSync } from 'node:fs';
import {
  createLogger,
  InMemoryBus,
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
}

export interface PaymentsHandle extends SubgraphHandle {
  database: PaymentsDatabase;
  fines: FineRepository;
  payments: PaymentRepository;
  money: MoneyConfig;
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
  const handle = await serveSubgraph({
    name: 'payments',
    typeDefs,
    resolvers,
    access,
    logger,
    service: options,
    database,
    context: async (req) => createContext(req, { fines, payments, clock, bus, money, patrons, logger }),
  });
  return { ...handle, database, fines, payments, money };
}

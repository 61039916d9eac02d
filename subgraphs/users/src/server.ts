import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  createAuthServices,
  createLogger,
  getEnvOptional,
  ServiceClock,
  startSubgraph,
  type AuthServices,
  type ServiceOptions,
  type SubgraphHandle,
} from '@shelfwise/kit';
import { gql } from 'graphql-tag';
import { AccountService, DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, type AdminAccount } from './accounts.js';
import { advanceClock } from './clockControl.js';
import { createContext } from './context.js';
import { UserRepository } from './data/UserRepository.js';
import { openUsersDatabase, type UsersDatabase } from './data/client.js';
import { access } from './resolvers/access.js';
import { resolvers } from './resolvers/index.js';

export { AccountService, DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, type AdminAccount };
export { LOGIN_FAILED_MESSAGE, LOGIN_WINDOW_SECONDS, MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS } from './accounts.js';

export const typeDefs = gql(readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8'));

export interface UsersOptions extends ServiceOptions {
  /**
   * Signing keys, sessions and sign-in failure counters. Pass the ones the router uses (it verifies the
   * tokens and checks that sessions are live). Unset: created here — in memory, with a key kept under
   * `<parent of dataDir>/keys/` (ephemeral without dataDir) — and disposed by `stop()`.
   */
  auth?: AuthServices;
  /** The first admin, created when no account has this email (see {@link adminFromEnv}). Unset: none. */
  admin?: AdminAccount;
}

export interface UsersHandle extends SubgraphHandle {
  database: UsersDatabase;
  users: UserRepository;
  /** Account rules (register, setPassword, setUserRole …), e.g. for seeding demo accounts with passwords. */
  accounts: AccountService;
  /** The AuthServices in use (given or created). */
  auth: AuthServices;
}

/**
 * The first admin from SHELFWISE_ADMIN_EMAIL / SHELFWISE_ADMIN_PASSWORD, with the documented local
 * defaults (admin@shelfwise.local / change-me-shelfwise-admin; start() warns while that password is used).
 */
export function adminFromEnv(env: NodeJS.ProcessEnv = process.env): AdminAccount {
  return {
    email: getEnvOptional('SHELFWISE_ADMIN_EMAIL', env) ?? DEFAULT_ADMIN_EMAIL,
    // Set and not blank (getEnvOptional), then taken as given: a password may begin or end with spaces.
    password:
      getEnvOptional('SHELFWISE_ADMIN_PASSWORD', env) !== undefined ? (env.SHELFWISE_ADMIN_PASSWORD as string) : DEFAULT_ADMIN_PASSWORD,
  };
}

/**
 * Starts the users subgraph: creates the first admin when `admin` is given and missing, then serves.
 * `stop()` drains requests, closes the database and disposes the AuthServices it created itself.
 */
export async function start(options: UsersOptions = {}): Promise<UsersHandle> {
  const logger = options.logger ?? createLogger('users');
  const clock = options.clock ?? new ServiceClock();
  const ownsAuth = options.auth === undefined;
  const auth =
    options.auth ?? (await createAuthServices({ dataDir: options.dataDir ? path.dirname(options.dataDir) : undefined, clock, logger }));
  const disposeAuth = () => (ownsAuth ? auth.dispose() : Promise.resolve());

  let database: UsersDatabase;
  try {
    database = await openUsersDatabase({ ...options, logger });
  } catch (err) {
    await disposeAuth();
    throw err;
  }
  const closeAll = async () => {
    try {
      await database.close();
    } finally {
      await disposeAuth();
    }
  };

  const users = new UserRepository(database.prisma);
  const accounts = new AccountService({ users, auth, clock, logger });
  try {
    if (options.admin) await accounts.ensureAdmin(options.admin);
    const handle = await startSubgraph({
      name: 'users',
      typeDefs,
      resolvers,
      access,
      port: options.port ?? 0,
      host: options.host,
      logger,
      context: async (req) => createContext(req, users, accounts, clock, (seconds) => advanceClock(clock, options.bus, seconds)),
      ready: () => database.db.ping(),
      bus: options.bus,
      onStop: closeAll,
    });
    return { ...handle, database, users, accounts, auth };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

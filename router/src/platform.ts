import { start as startBooks } from '@shelfwise/books';
import {
  createAuthServices,
  InMemoryBus,
  MutableSubgraphDirectory,
  RedisBus,
  ServiceClock,
  SUBGRAPH_NAMES,
  type AuthServices,
  type EventBus,
  type Logger,
  type ServiceOptions,
  type SubgraphName,
} from '@shelfwise/kit';
import { start as startLoans } from '@shelfwise/loans';
import { start as startNotifications } from '@shelfwise/notifications';
import { start as startPayments } from '@shelfwise/payments';
import { start as startReservations } from '@shelfwise/reservations';
import { start as startReviews } from '@shelfwise/reviews';
import { start as startUsers, type UsersOptions } from '@shelfwise/users';
import { startRouter, type RouterHandle, type RouterOptions } from './server.js';

/** Each subgraph's own `start()`, by name. */
const STARTERS = {
  users: startUsers,
  books: startBooks,
  loans: startLoans,
  reservations: startReservations,
  payments: startPayments,
  reviews: startReviews,
  notifications: startNotifications,
} satisfies Record<SubgraphName, (options: ServiceOptions) => Promise<{ url: string; stop(): Promise<void> }>>;

/** The running subgraphs, each with its own handle type (repositories, database). */
export type PlatformSubgraphs = { [Name in SubgraphName]: Awaited<ReturnType<(typeof STARTERS)[Name]>> };

export interface PlatformOptions {
  /**
   * Options every subgraph gets, under its own entry in `subgraphs`. Unset fields mean the test-friendly
   * default: a free port on loopback and an in-memory PGlite.
   */
  defaults?: ServiceOptions;
  /** Per-subgraph options (a data folder, a databaseName on a shared Postgres, a port…). */
  subgraphs?: Partial<Record<SubgraphName, ServiceOptions>> & { users?: UsersOptions };
  /** The ONE bus every subgraph shares. Unset: an in-memory bus the platform creates and disposes. */
  bus?: EventBus;
  /** The ONE clock every subgraph shares (the test clock moves all of them together). */
  clock?: ServiceClock;
  /**
   * Identity for the whole platform: the access-token keys, the session store and the login-failure
   * counters, shared by the users subgraph (which signs people in) and the router (which checks tokens
   * and sessions). Unset: in-memory stores and a key pair for this process, disposed on stop.
   */
  auth?: AuthServices;
  /** Router options; it always routes to the subgraphs just started. Port 0 and loopback unless given. */
  router?: Omit<RouterOptions, 'subgraphUrls'>;
  /** Runs once everything answers, before startPlatform returns (demo data, test fixtures). */
  seed?: (platform: Platform) => Promise<void>;
  logger?: Logger;
}

export interface Platform {
  router: RouterHandle;
  subgraphs: PlatformSubgraphs;
  bus: EventBus;
  clock: ServiceClock;
  auth: AuthServices;
  /** Stops the router, then every subgraph, then the bus when the platform created it. */
  stop(): Promise<void>;
}

async function stopAll(handles: { stop(): Promise<void> }[]): Promise<void> {
  const results = await Promise.allSettled(handles.map((h) => h.stop()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Starts all seven subgraphs and the router in this process: the embedded launcher (`npm start`),
 * the federation tests and the bench all use it. Every subgraph gets its own database (PGlite, or its
 * own database on a Postgres server) but they share one bus and one clock, as deployed services share
 * Redis and the test clock.
 */
export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const ownsBus = options.bus === undefined;
  const bus = options.bus ?? new InMemoryBus(options.logger);
  const clock = options.clock ?? new ServiceClock();
  const ownsAuth = options.auth === undefined;
  const auth = options.auth ?? (await createAuthServices({ clock, logger: options.logger }));
  const releaseShared = async () => {
    if (ownsBus) await bus.dispose();
    if (ownsAuth) await auth.dispose();
  };

  // Internal calls between subgraphs go to the ports chosen below, filled in as each one starts.
  const directory = new MutableSubgraphDirectory();
  const started = await Promise.allSettled(
    SUBGRAPH_NAMES.map(async (name) => {
      // Only the users subgraph signs people in; it gets the platform's identity services.
      const serviceOptions: ServiceOptions & { auth?: AuthServices } = {
        port: 0,
        ...options.defaults,
        ...options.subgraphs?.[name],
        bus,
        clock,
        services: directory,
        ...(name === 'users' ? { auth } : {}),
      };
      const handle = await STARTERS[name](serviceOptions);
      directory.set(name, handle.url);
      return handle;
    }),
  );
  const running = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failure = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await stopAll(running).catch(() => undefined);
    await releaseShared();
    throw failure.reason;
  }
  const subgraphs = Object.fromEntries(SUBGRAPH_NAMES.map((name, i) => [name, running[i]])) as PlatformSubgraphs;

  let router: RouterHandle;
  try {
    router = await startRouter({
      port: 0,
      host: '127.0.0.1',
      logger: options.logger,
      redisPing: bus instanceof RedisBus ? () => bus.ping() : undefined,
      auth: { keys: auth.keys, sessions: auth.sessions, clock },
      rateLimit: { clock },
      // Subscriptions push the events the subgraphs publish on the shared bus.
      bus,
      ...options.router,
      subgraphUrls: Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, subgraphs[name].url])),
    });
  } catch (err) {
    await stopAll(running).catch(() => undefined);
    await releaseShared();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  const platform: Platform = {
    router,
    subgraphs,
    bus,
    clock,
    auth,
    stop() {
      stopping ??= (async () => {
        try {
          await router.stop();
          await stopAll(Object.values(subgraphs));
        } finally {
          await releaseShared();
        }
      })();
      return stopping;
    },
  };

  if (options.seed) {
    try {
      await options.seed(platform);
    } catch (err) {
      await platform.stop().catch(() => undefined);
      throw err;
    }
  }
  return platform;
}

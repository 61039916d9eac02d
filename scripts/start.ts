/**
 * The embedded launcher behind `npm start`: all seven subgraphs and the router in this one process.
 *
 * With no DATABASE_URL each subgraph keeps an embedded PostgreSQL (PGlite) in .data/<subgraph>/; with
 * DATABASE_URL each gets its own database on that server. Events go through one bus (Redis when
 * REDIS_URL is set, otherwise in-process) and time through one clock shared by every subgraph. The
 * router listens on PORT (4000) and serves the built web app (client/dist) at /.
 */
import {
  createAuthServices,
  createBus,
  createLogger,
  getEnvBool,
  getEnvNum,
  getEnvOptional,
  getEnvStr,
  keysFromEnv,
  repoPath,
  ROUTER_PORT,
  ServiceClock,
  serviceOptionsFromEnv,
  stopOnSignals,
  SUBGRAPH_NAMES,
  type ServiceOptions,
  type SubgraphName,
} from '@shelfwise/kit';
import { seedDemoLibrary } from '@shelfwise/router/demo';
import { adminFromEnv } from '@shelfwise/users';
import { startPlatform } from '@shelfwise/router/platform';

const logger = createLogger('shelfwise');
const bus = createBus({ redisUrl: getEnvOptional('REDIS_URL'), prefix: getEnvStr('SHELFWISE_REDIS_PREFIX', 'shelfwise'), logger });
const clock = new ServiceClock(getEnvBool('SHELFWISE_TEST_CLOCK', false));
// Identity shared by the users subgraph and the router: sessions in Redis when REDIS_URL is set, the
// access-token key from the environment or generated once under SHELFWISE_DATA_DIR/keys/.
const auth = await createAuthServices({
  redisUrl: getEnvOptional('REDIS_URL'),
  prefix: getEnvStr('SHELFWISE_REDIS_PREFIX', 'shelfwise'),
  dataDir: getEnvStr('SHELFWISE_DATA_DIR', repoPath('.data')),
  keys: keysFromEnv(),
  clock,
  logger,
});

// Each subgraph's port, host, database and logger come from the environment as when it runs alone;
// all of them share the one bus and clock above.
const subgraphs = {
  ...Object.fromEntries(
    SUBGRAPH_NAMES.map((name): [SubgraphName, ServiceOptions] => [name, serviceOptionsFromEnv(name, process.env, { bus, clock })]),
  ),
  // The first admin (SHELFWISE_ADMIN_EMAIL / SHELFWISE_ADMIN_PASSWORD, documented local defaults).
  users: { ...serviceOptionsFromEnv('users', process.env, { bus, clock }), admin: adminFromEnv() },
};

const platform = await startPlatform({
  subgraphs,
  bus,
  clock,
  auth,
  router: {
    port: getEnvNum('PORT', ROUTER_PORT),
    host: getEnvStr('SHELFWISE_ROUTER_BIND_HOST', '0.0.0.0'),
    clientDir: repoPath('client', 'dist'),
    logger: createLogger('router'),
  },
  // A fresh embedded install gets a small demo library; an existing one is left as it is.
  seed: getEnvBool('SHELFWISE_DEMO_DATA', true)
    ? async (platform) => {
        const demo = await seedDemoLibrary(platform);
        if (demo) {
          logger.info({ books: demo.books, copies: demo.copies }, 'loaded the demo library (SHELFWISE_DEMO_DATA=false turns this off)');
          console.log(
            `Empty catalogue: loaded the demo library: ${demo.books} books (${demo.copies} copies), librarian ${demo.librarian}, ` +
              `patrons ${demo.patrons.join(' and ')} (password in README.md, "Quick start"). SHELFWISE_DEMO_DATA=false turns this off.`,
          );
        }
      }
    : undefined,
  logger,
}).catch(async (err: unknown) => {
  await bus.dispose();
  await auth.dispose();
  throw err;
});

stopOnSignals(async () => {
  await platform.stop();
  await bus.dispose();
  await auth.dispose();
}, logger);

const port = platform.router.port;
console.log(`Shelfwise is running at http://localhost:${port}/ (GraphQL: http://localhost:${port}/graphql)`);

import {
  configureCallerTrust,
  createAuthServices,
  createLogger,
  followClock,
  getEnvBool,
  keysFromEnv,
  ServiceClock,
  getEnvNum,
  getEnvOptional,
  getEnvStr,
  RedisBus,
  repoPath,
  ROUTER_PORT,
  SUBGRAPH_NAMES,
  subgraphUrlEnvVar,
  stopOnSignals,
} from '@shelfwise/kit';
import { createRateLimiter } from './rateLimit.js';
import { startRouter } from './server.js';

// Runs the router on its own, in front of subgraphs started elsewhere (docker-compose, separate
// processes). Subgraph URLs come from supergraph.graphql unless SHELFWISE_<NAME>_URL overrides one.
const logger = createLogger('router');
// On its own, the router vouches for callers with the private key whose public half the subgraphs hold.
configureCallerTrust('router');
const subgraphUrls: Record<string, string> = {};
for (const name of SUBGRAPH_NAMES) {
  const url = getEnvOptional(subgraphUrlEnvVar(name));
  if (url) subgraphUrls[name] = url;
}

// With REDIS_URL the router's /ready also requires Redis (live updates depend on it).
const redisUrl = getEnvOptional('REDIS_URL');
const bus = redisUrl ? new RedisBus({ url: redisUrl, prefix: getEnvStr('SHELFWISE_REDIS_PREFIX', 'shelfwise'), logger }) : undefined;
// With REDIS_URL every router replica shares the rate-limit buckets; without it they live in this process.
const rateLimiter = createRateLimiter({ redisUrl, prefix: getEnvStr('SHELFWISE_REDIS_PREFIX', 'shelfwise') });

// Who is calling: access tokens are checked with the users service's public key, and sessions are looked
// up in the Redis the users service writes them to.
if (!redisUrl) throw new Error('The router on its own needs REDIS_URL: sign-in sessions live in Redis, shared with the users service.');
const jwtKeys = keysFromEnv();
if (!jwtKeys.publicKey && !jwtKeys.privateKey) {
  throw new Error(
    "SHELFWISE_JWT_PUBLIC_KEY is not set: the router needs the users service's public key to check access tokens. Run `npm run keys`.",
  );
}
const clock = new ServiceClock(getEnvBool('SHELFWISE_TEST_CLOCK', false));
// A test clock moved by the users service (advanceClock) moves the router's too (token expiry).
if (bus) await followClock(clock, bus);
const auth = await createAuthServices({ redisUrl, prefix: getEnvStr('SHELFWISE_REDIS_PREFIX', 'shelfwise'), keys: jwtKeys, clock, logger });

const router = await startRouter({
  port: getEnvNum('PORT', ROUTER_PORT),
  host: getEnvStr('SHELFWISE_ROUTER_BIND_HOST', '0.0.0.0'),
  subgraphUrls,
  clientDir: getEnvStr('SHELFWISE_CLIENT_DIR', repoPath('client', 'dist')),
  redisPing: bus ? () => bus.ping() : undefined,
  bus,
  rateLimiter,
  rateLimit: { clock },
  auth: { keys: auth.keys, sessions: auth.sessions, clock },
  logger,
});
stopOnSignals(async () => {
  await router.stop();
  await bus?.dispose();
  await rateLimiter.dispose();
  await auth.dispose();
}, logger);

import {
  configureCallerTrust,
  followClock,
  createAuthServices,
  getEnvOptional,
  getEnvStr,
  keysFromEnv,
  repoPath,
  serviceOptionsFromEnv,
  stopOnSignals,
} from '@shelfwise/kit';
import { adminFromEnv, start } from './server.js';

// On its own, this service answers only the router whose public key it is given.
configureCallerTrust('subgraph');
const options = serviceOptionsFromEnv('users');
// A test clock moved in another process (advanceClock) moves this one too.
await followClock(options.clock, options.bus);
const redisUrl = getEnvOptional('REDIS_URL');
if (!redisUrl) {
  options.logger.warn('REDIS_URL is not set: sessions live in this process only, and a router in another process cannot see them');
}
// Sessions and sign-in failure counters in Redis (shared with the router); the signing key from
// SHELFWISE_JWT_PRIVATE_KEY, or generated once under <SHELFWISE_DATA_DIR>/keys/.
const auth = await createAuthServices({
  redisUrl,
  prefix: getEnvStr('SHELFWISE_REDIS_PREFIX', 'shelfwise'),
  keys: keysFromEnv(),
  dataDir: getEnvStr('SHELFWISE_DATA_DIR', repoPath('.data')),
  clock: options.clock,
  logger: options.logger,
});
const handle = await start({ ...options, auth, admin: adminFromEnv() }).catch(async (err: unknown) => {
  await auth.dispose();
  throw err;
});
stopOnSignals(async () => {
  await handle.stop();
  await auth.dispose();
  await options.bus.dispose();
}, options.logger);

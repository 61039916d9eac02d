import type { Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { InMemoryAttemptCounter, RedisAttemptCounter, type AttemptCounter } from './attempts.js';
import { loadSigningKeys, type LoadKeysOptions, type SigningKeys } from './keys.js';
import { InMemorySessionStore, RedisSessionStore, type SessionStore } from './sessions.js';

export { hashPassword, verifyPassword, passwordHashingStats } from './passwords.js';
export { loadSigningKeys, keysFromEnv, GENERATED_KEY_FILE, type SigningKeys, type LoadKeysOptions } from './keys.js';
export {
  ACCESS_TOKEN_TTL_SECONDS,
  ACCESS_TOKEN_ISSUER,
  ACCESS_TOKEN_AUDIENCE,
  ACCESS_TOKEN_INVALID_MESSAGE,
  issueAccessToken,
  verifyAccessToken,
  type AccessClaims,
} from './tokens.js';
export {
  REFRESH_TOKEN_TTL_SECONDS,
  SESSION_INVALID_MESSAGE,
  InMemorySessionStore,
  RedisSessionStore,
  type Session,
  type SessionStore,
} from './sessions.js';
export { InMemoryAttemptCounter, RedisAttemptCounter, type AttemptCounter } from './attempts.js';

/** Everything identity needs in one process: the signing keys, the session store and the failure counters. */
export interface AuthServices {
  keys: SigningKeys;
  sessions: SessionStore;
  attempts: AttemptCounter;
  /** Closes the Redis connections (when any). */
  dispose(): Promise<void>;
}

export interface AuthServicesOptions {
  /** Set → sessions and counters in Redis; unset → in process memory (the embedded default). */
  redisUrl?: string;
  /** Redis key prefix (default `shelfwise`), as SHELFWISE_REDIS_PREFIX. */
  prefix?: string;
  /** Where the embedded default keeps its generated key (`<dataDir>/keys/`), unless `keys` says otherwise. */
  dataDir?: string;
  /** Key material (usually keysFromEnv()); its `dataDir`, when set, wins over the one above. */
  keys?: LoadKeysOptions;
  /** The in-memory attempt counter's clock (the service clock, so the test clock moves lockouts). */
  clock?: Clock;
  logger?: Logger;
}

/** The signing keys plus Redis stores when `redisUrl` is set, in-memory ones otherwise. */
export async function createAuthServices(options: AuthServicesOptions): Promise<AuthServices> {
  const keys = await loadSigningKeys({ logger: options.logger, ...options.keys, dataDir: options.keys?.dataDir ?? options.dataDir });
  const { redisUrl, logger } = options;
  const prefix = options.prefix ?? 'shelfwise';
  const sessions = redisUrl ? new RedisSessionStore({ url: redisUrl, prefix, logger }) : new InMemorySessionStore({ logger });
  const attempts = redisUrl ? new RedisAttemptCounter({ url: redisUrl, prefix, logger }) : new InMemoryAttemptCounter(options.clock);
  let disposing: Promise<void> | undefined;
  return {
    keys,
    sessions,
    attempts,
    dispose() {
      disposing ??= Promise.all([sessions.dispose(), attempts.dispose()]).then(() => undefined);
      return disposing;
    },
  };
}

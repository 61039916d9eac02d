import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { ErrorCode, getEnvBool, getEnvNum, type Clock, type Logger } from '@shelfwise/kit';
import type { RequestHandler } from 'express';
import { GraphQLError } from 'graphql';
import { Redis } from 'ioredis';

/** The shape of one token bucket: it holds up to `capacity` tokens and refills from empty to full in `refillSeconds`. */
export interface BucketLimit {
  capacity: number;
  refillSeconds: number;
}

export interface RateLimitDecision {
  /** The tokens were taken; the request may go on. */
  allowed: boolean;
  /** When refused: whole seconds until `cost` tokens will be there (at least 1). 0 when allowed. */
  retryAfterSeconds: number;
  /** Whole tokens left in the bucket after this call. */
  remaining: number;
}

/**
 * Token buckets by key. Both implementations compute the same thing from the same inputs; `now` (epoch
 * milliseconds) comes from the caller, so tests move time instead of sleeping and all routers sharing a
 * Redis agree on a bucket whatever Redis's own clock says. A missing bucket is a full one.
 */
export interface RateLimiter {
  take(key: string, cost: number, now: number, limit: BucketLimit): Promise<RateLimitDecision>;
  /** Releases connections (a no-op in memory). */
  dispose(): Promise<void>;
}

/** Absorbs floating-point dust, so waiting exactly the Retry-After always finds the tokens there. */
const EPSILON = 1e-9;

function checkArguments(key: string, cost: number, now: number, limit: BucketLimit): void {
  if (key === '') throw new RangeError('A rate-limit key must not be empty.');
  if (!Number.isSafeInteger(limit.capacity) || limit.capacity < 1)
    throw new RangeError(`Bucket capacity must be a whole number ≥ 1, got ${limit.capacity}.`);
  if (!(limit.refillSeconds > 0) || !Number.isFinite(limit.refillSeconds))
    throw new RangeError(`Bucket refillSeconds must be > 0, got ${limit.refillSeconds}.`);
  if (!Number.isSafeInteger(cost) || cost < 1 || cost > limit.capacity) {
    throw new RangeError(`A take costs a whole number of tokens between 1 and the capacity (${limit.capacity}), got ${cost}.`);
  }
  if (!Number.isFinite(now)) throw new RangeError(`now must be a time in epoch milliseconds, got ${now}.`);
}

interface BucketState {
  tokens: number;
  /** The time `tokens` was computed for (epoch ms); never moves backwards. */
  updatedAt: number;
}

/** One take on one bucket; the Lua script in {@link RedisRateLimiter} is the same computation. */
export function takeFromBucket(
  state: BucketState | undefined,
  cost: number,
  now: number,
  limit: BucketLimit,
): { state: BucketState; decision: RateLimitDecision } {
  const refillMs = limit.refillSeconds * 1000;
  let tokens = state?.tokens ?? limit.capacity;
  let updatedAt = state?.updatedAt ?? now;
  if (now > updatedAt) {
    tokens = Math.min(limit.capacity, tokens + ((now - updatedAt) * limit.capacity) / refillMs);
    updatedAt = now;
  }
  if (tokens + EPSILON >= cost) {
    tokens = Math.max(0, tokens - cost);
    return { state: { tokens, updatedAt }, decision: { allowed: true, retryAfterSeconds: 0, remaining: Math.floor(tokens + EPSILON) } };
  }
  const waitMs = ((cost - tokens) * refillMs) / limit.capacity;
  return {
    state: { tokens, updatedAt },
    decision: {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000 - EPSILON)),
      remaining: Math.floor(tokens + EPSILON),
    },
  };
}

/** When an untouched bucket would be full again (after that, forgetting it changes nothing). */
function fullAt(state: BucketState, limit: BucketLimit): number {
  return state.updatedAt + ((limit.capacity - state.tokens) * limit.refillSeconds * 1000) / limit.capacity;
}

/**
 * Buckets in this process (the embedded default, and a router running alone). Buckets that have refilled
 * are swept every `sweepEvery` takes, so a flood from many addresses does not grow memory for ever.
 */
export class InMemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, BucketState & { fullAt: number }>();
  private takes = 0;

  constructor(private readonly options: { sweepEvery?: number } = {}) {}

  async take(key: string, cost: number, now: number, limit: BucketLimit): Promise<RateLimitDecision> {
    checkArguments(key, cost, now, limit);
    this.takes += 1;
    if (this.takes % (this.options.sweepEvery ?? 1000) === 0) this.sweep(now);
    const { state, decision } = takeFromBucket(this.buckets.get(key), cost, now, limit);
    this.buckets.set(key, { ...state, fullAt: fullAt(state, limit) });
    return decision;
  }

  /** Buckets held right now (for tests of the sweep). */
  get size(): number {
    return this.buckets.size;
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.fullAt <= now) this.buckets.delete(key);
  }

  async dispose(): Promise<void> {
    this.buckets.clear();
  }
}

/**
 * KEYS[1] the bucket; ARGV capacity, refill milliseconds, cost, now (epoch ms). Returns { allowed (1/0),
 * remaining, retryAfterSeconds }. The same computation as takeFromBucket, in one script so that
 * concurrent takes from any number of routers never over-spend a bucket. The key expires once the
 * bucket would be full again.
 */
const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local refill_ms = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local eps = 1e-9
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
  ts = now
end
if now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * capacity / refill_ms)
  ts = now
end
local allowed = 0
local retry = 0
if tokens + eps >= cost then
  tokens = math.max(0, tokens - cost)
  allowed = 1
else
  retry = math.max(1, math.ceil((cost - tokens) * refill_ms / capacity / 1000 - eps))
end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%d', ts))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) * refill_ms / capacity) + 1000)
return { allowed, math.floor(tokens + eps), retry }
`;
const TAKE_SHA = createHash('sha1').update(TAKE_SCRIPT).digest('hex');

export interface RedisRateLimiterOptions {
  /** A Redis URL (the limiter opens and closes its own connection) … */
  url?: string;
  /** … or a connection someone else owns and closes. */
  redis?: Redis;
  /** Required, non-empty: namespaces every key (`<prefix>:ratelimit:<key>`). */
  prefix: string;
}

/** Thrown (and answered by failing open) when Redis is not connected, instead of waiting for it. */
export class RateLimiterUnavailableError extends Error {
  constructor(status: string) {
    super(`The rate limiter's Redis connection is ${status}.`);
    this.name = 'RateLimiterUnavailableError';
  }
}

/** Buckets in Redis, shared by every router of a deployment; one Lua script per take, so takes are atomic. */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: Redis;
  private readonly ownsConnection: boolean;
  private readonly prefix: string;

  constructor(options: RedisRateLimiterOptions) {
    if (!options.prefix || /\s/.test(options.prefix)) throw new Error('RedisRateLimiter needs a non-empty key prefix without whitespace.');
    this.prefix = `${options.prefix.endsWith(':') ? options.prefix : `${options.prefix}:`}ratelimit:`;
    if (options.redis) {
      this.redis = options.redis;
      this.ownsConnection = false;
    } else if (options.url) {
      // A slow or missing Redis must not hold requests: one try, a short timeout, then the router fails open.
      this.redis = new Redis(options.url, { maxRetriesPerRequest: 1, commandTimeout: 500, connectionName: `${this.prefix}limiter` });
      this.redis.on('error', () => undefined);
      this.ownsConnection = true;
    } else {
      throw new Error('RedisRateLimiter needs a url or a redis connection.');
    }
  }

  /** The full Redis key of a bucket. */
  keyOf(key: string): string {
    return this.prefix + key;
  }

  async take(key: string, cost: number, now: number, limit: BucketLimit): Promise<RateLimitDecision> {
    checkArguments(key, cost, now, limit);
    const status = this.redis.status;
    // While reconnecting (or after close), answer at once instead of queueing behind a dead connection.
    if (status === 'reconnecting' || status === 'close' || status === 'end') throw new RateLimiterUnavailableError(status);
    const args = [1, this.keyOf(key), limit.capacity, limit.refillSeconds * 1000, cost, Math.floor(now)] as const;
    let reply: unknown;
    try {
      reply = await this.redis.evalsha(TAKE_SHA, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      reply = await this.redis.eval(TAKE_SCRIPT, ...args);
    }
    const [allowed, remaining, retryAfterSeconds] = reply as [number, number, number];
    return { allowed: allowed === 1, retryAfterSeconds, remaining };
  }

  async dispose(): Promise<void> {
    if (!this.ownsConnection) return;
    await this.redis.quit().catch(() => undefined);
    if (this.redis.status !== 'end') this.redis.disconnect();
  }
}

/** REDIS_URL set → buckets in Redis (shared by every router); otherwise in this process. */
export function createRateLimiter(options: { redisUrl?: string; prefix?: string }): RateLimiter {
  if (options.redisUrl) return new RedisRateLimiter({ url: options.redisUrl, prefix: options.prefix ?? 'shelfwise' });
  return new InMemoryRateLimiter();
}

// ---------------------------------------------------------------------------------------------------
// The router's use of it
// ---------------------------------------------------------------------------------------------------

export interface RateLimitOptions {
  /** Requests per minute per client address (burst = the same number); 0 turns the limit off. */
  ipPerMinute?: number;
  /** Requests per minute per signed-in user (burst = the same number); 0 turns the limit off. */
  userPerMinute?: number;
  /**
   * Take the client address from X-Forwarded-For (its right-most entry, the one our own proxy added)
   * instead of the socket. Only behind a proxy that sets it: otherwise clients choose their address.
   */
  trustProxy?: boolean;
  /** Time for the buckets (the platform's clock; the test clock moves it). Default: the wall clock. */
  clock?: Clock;
}

export type RateLimitSettings = Required<Omit<RateLimitOptions, 'clock'>> & Pick<RateLimitOptions, 'clock'>;

export const DEFAULT_RATE_LIMITS = Object.freeze({ ipPerMinute: 300, userPerMinute: 600 });

/** Defaults, then SHELFWISE_RATE_LIMIT_* and SHELFWISE_TRUST_PROXY, then what the caller passes. */
export function resolveRateLimit(options: RateLimitOptions = {}, env: Record<string, string | undefined> = process.env): RateLimitSettings {
  const settings: RateLimitSettings = {
    ipPerMinute: options.ipPerMinute ?? getEnvNum('SHELFWISE_RATE_LIMIT_IP_PER_MINUTE', DEFAULT_RATE_LIMITS.ipPerMinute, env),
    userPerMinute: options.userPerMinute ?? getEnvNum('SHELFWISE_RATE_LIMIT_USER_PER_MINUTE', DEFAULT_RATE_LIMITS.userPerMinute, env),
    trustProxy: options.trustProxy ?? getEnvBool('SHELFWISE_TRUST_PROXY', false, env),
    clock: options.clock,
  };
  for (const name of ['ipPerMinute', 'userPerMinute'] as const) {
    if (!Number.isSafeInteger(settings[name]) || settings[name] < 0) {
      throw new Error(`Rate limit ${name} must be a whole number ≥ 0 (0 turns it off), got ${settings[name]}.`);
    }
  }
  return settings;
}

function perMinute(requests: number): BucketLimit {
  return { capacity: requests, refillSeconds: 60 };
}

/** Expands an IPv6 address to its eight 16-bit groups, or undefined when it is not one. */
function ipv6Groups(address: string): number[] | undefined {
  let text = address.split('%')[0]!.toLowerCase();
  // A dotted IPv4 tail (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) becomes two groups.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((g) => parseInt(g, 16)));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const groups = [...head, ...Array<number>(missing).fill(0), ...rest];
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * The bucket key of a client address: `ip:<IPv4>`, or for IPv6 `ip:<first four groups>::/64`, since one
 * subscriber usually holds a whole /64 and could otherwise take a fresh bucket per request. IPv4-mapped
 * IPv6 (::ffff:1.2.3.4, how a dual-stack socket reports IPv4 clients) counts as the IPv4 address.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return `ip:${mapped[1]}`;
  if (isIP(address) === 4) return `ip:${address}`;
  const groups = isIP(address.split('%')[0]!) === 6 ? ipv6Groups(address) : undefined;
  if (!groups) return `ip:${address}`;
  return `ip:${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/**
 * The client's address: the socket's peer, or with `trustProxy` the right-most X-Forwarded-For entry
 * (added by our proxy; entries to its left came from the client and prove nothing). Falls back to the
 * socket when the header is missing or not an address.
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const socket = req.socket.remoteAddress ?? 'unknown';
  if (!trustProxy) return socket;
  const header = req.headers['x-forwarded-for'];
  const last = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
    .at(-1);
  return last !== undefined && isIP(last) !== 0 ? last : socket;
}

function seconds(n: number): string {
  return `${n} second${n === 1 ? '' : 's'}`;
}

/** The GraphQL-shaped body of a 429 (what a GraphQL client shows, with the code to act on). */
export function rateLimitedBody(who: 'address' | 'account', retryAfterSeconds: number) {
  return {
    errors: [
      {
        message: `Too many requests from this ${who}; try again in ${seconds(retryAfterSeconds)}.`,
        extensions: { code: ErrorCode.RATE_LIMITED, retryAfterSeconds },
      },
    ],
  };
}

/** Takes one token, failing open (with one warning per outage) when the limiter's store is down. */
function guardedTake(limiter: RateLimiter, logger: Logger) {
  let degraded = false;
  return async (key: string, limit: BucketLimit, now: number): Promise<RateLimitDecision> => {
    try {
      const decision = await limiter.take(key, 1, now, limit);
      if (degraded) {
        degraded = false;
        logger.info('rate limiter reachable again');
      }
      return decision;
    } catch (err) {
      if (!degraded) {
        degraded = true;
        logger.warn(
          { err: { message: err instanceof Error ? err.message : String(err) } },
          'rate limiter unavailable; requests pass unlimited',
        );
      }
      return { allowed: true, retryAfterSeconds: 0, remaining: limit.capacity };
    }
  };
}

const nowOf = (settings: RateLimitSettings) => settings.clock?.now().getTime() ?? Date.now();

/**
 * Express middleware for the GraphQL path: one token from the caller's address bucket per request, before
 * the body is even parsed. Over the limit: 429, Retry-After and a GraphQL-shaped error body.
 */
export function addressRateLimit(limiter: RateLimiter, settings: RateLimitSettings, logger: Logger): RequestHandler {
  if (settings.ipPerMinute === 0) return (_req, _res, next) => next();
  const take = guardedTake(limiter, logger);
  const limit = perMinute(settings.ipPerMinute);
  return async (req, res, next) => {
    const decision = await take(addressKey(clientAddress(req, settings.trustProxy)), limit, nowOf(settings));
    if (decision.allowed) {
      next();
      return;
    }
    res
      .status(429)
      .set('retry-after', String(decision.retryAfterSeconds))
      .type('application/json')
      .send(JSON.stringify(rateLimitedBody('address', decision.retryAfterSeconds)));
  };
}

/** Which bucket refused a request, and when to come back. */
export interface RateLimitRefusal {
  who: 'address' | 'account';
  retryAfterSeconds: number;
}

/**
 * For requests that do not go through Express and Apollo Server (WebSocket upgrades and subscribe
 * messages): one token from the address bucket, then one from the signed-in user's; the first refusal,
 * or null. Fails open like the HTTP limits when the limiter's store is down.
 */
export function requestRateLimit(
  limiter: RateLimiter,
  settings: RateLimitSettings,
  logger: Logger,
): (address: string, userId: string | null) => Promise<RateLimitRefusal | null> {
  const take = guardedTake(limiter, logger);
  const addressLimit = settings.ipPerMinute > 0 ? perMinute(settings.ipPerMinute) : undefined;
  const userLimit = settings.userPerMinute > 0 ? perMinute(settings.userPerMinute) : undefined;
  return async (address, userId) => {
    const now = nowOf(settings);
    if (addressLimit) {
      const decision = await take(addressKey(address), addressLimit, now);
      if (!decision.allowed) return { who: 'address', retryAfterSeconds: decision.retryAfterSeconds };
    }
    if (userLimit && userId) {
      const decision = await take(`user:${userId}`, userLimit, now);
      if (!decision.allowed) return { who: 'account', retryAfterSeconds: decision.retryAfterSeconds };
    }
    return null;
  };
}

/**
 * Apollo Server plugin: one token from the signed-in caller's bucket (`user:<id>`, from
 * `contextValue.viewer`) per operation, before execution. Anonymous callers are only limited by
 * address; operations the router sends itself (`contextValue.internal`) are not charged. Over the
 * limit: the same 429 as {@link addressRateLimit}, through formatError.
 */
export function userRateLimitPlugin<TContext extends { viewer?: { userId: string } | null; internal?: boolean }>(
  limiter: RateLimiter,
  settings: RateLimitSettings,
  logger: Logger,
): ApolloServerPlugin<TContext> {
  const take = guardedTake(limiter, logger);
  const limit = settings.userPerMinute > 0 ? perMinute(settings.userPerMinute) : undefined;
  return {
    async requestDidStart({ contextValue }) {
      const userId = contextValue.viewer?.userId;
      // The router's own operations (resolving subscription events) are not the user's requests.
      if (!limit || !userId || contextValue.internal) return;
      return {
        // The earliest hook whose errors Apollo Server answers as a request error (one thrown in
        // requestDidStart or didResolveSource becomes a 500): after parsing and validation, which the
        // document cache makes cheap for repeated operations, and before any subgraph is called.
        async didResolveOperation() {
          const decision = await take(`user:${userId}`, limit, nowOf(settings));
          if (decision.allowed) return;
          const [error] = rateLimitedBody('account', decision.retryAfterSeconds).errors;
          throw new GraphQLError(error!.message, {
            extensions: {
              ...error!.extensions,
              http: { status: 429, headers: new HeaderMap([['retry-after', String(decision.retryAfterSeconds)]]) },
            },
          });
        },
      };
    },
  };
}

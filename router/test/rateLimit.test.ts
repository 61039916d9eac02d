import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { start as startBooks, typeDefs as booksTypeDefs, type BooksHandle } from '@shelfwise/books';
import { ServiceClock, type Logger } from '@shelfwise/kit';
import { freshRedisPrefix, FrozenClock, hasRedis, TEST_REDIS_URL } from '@shelfwise/testkit';
import express from 'express';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createRouterErrorFormatter } from '../src/errors.js';
import {
  addressKey,
  clientAddress,
  createRateLimiter,
  InMemoryRateLimiter,
  RedisRateLimiter,
  resolveRateLimit,
  userRateLimitPlugin,
  type BucketLimit,
  type RateLimitDecision,
  type RateLimiter,
} from '../src/rateLimit.js';
import { startRouter, type RouterHandle } from '../src/server.js';

const redisOk = await hasRedis();
const describeRedis = redisOk ? describe : describe.skip;

const T0 = Date.parse('2026-03-01T09:00:00Z');
/** 3 tokens, refilled over a minute: one every 20 s. */
const THREE_PER_MINUTE: BucketLimit = { capacity: 3, refillSeconds: 60 };

const allowed = (remaining: number): RateLimitDecision => ({ allowed: true, retryAfterSeconds: 0, remaining });
const refused = (retryAfterSeconds: number, remaining = 0): RateLimitDecision => ({ allowed: false, retryAfterSeconds, remaining });

/** The behaviour every RateLimiter must have; `factory` gives a limiter with keys no other test uses. */
function rateLimiterContract(name: string, describeFn: jest.Describe, factory: () => RateLimiter) {
  describeFn(`RateLimiter contract: ${name}`, () => {
    let limiter: RateLimiter;
    beforeEach(() => {
      limiter = factory();
    });
    afterEach(() => limiter.dispose());

    it('lets a full bucket spend its capacity at once, then refuses with the wait for one token', async () => {
      expect(await limiter.take('ip:10.0.0.1', 1, T0, THREE_PER_MINUTE)).toEqual(allowed(2));
      expect(await limiter.take('ip:10.0.0.1', 1, T0, THREE_PER_MINUTE)).toEqual(allowed(1));
      expect(await limiter.take('ip:10.0.0.1', 1, T0, THREE_PER_MINUTE)).toEqual(allowed(0));
      expect(await limiter.take('ip:10.0.0.1', 1, T0, THREE_PER_MINUTE)).toEqual(refused(20));
      expect(await limiter.take('ip:10.0.0.1', 1, T0 + 5_000, THREE_PER_MINUTE)).toEqual(refused(15));
    });

    it('refills with time: the token is there exactly when Retry-After said, not a millisecond before', async () => {
      for (let i = 0; i < 3; i += 1) await limiter.take('k', 1, T0, THREE_PER_MINUTE);
      expect(await limiter.take('k', 1, T0 + 19_999, THREE_PER_MINUTE)).toEqual(refused(1));
      expect(await limiter.take('k', 1, T0 + 20_000, THREE_PER_MINUTE)).toEqual(allowed(0));
      expect(await limiter.take('k', 1, T0 + 20_000, THREE_PER_MINUTE)).toEqual(refused(20));
    });

    it('never holds more than its capacity, however long it sat idle', async () => {
      await limiter.take('idle', 1, T0, THREE_PER_MINUTE);
      expect(await limiter.take('idle', 1, T0 + 3_600_000, THREE_PER_MINUTE)).toEqual(allowed(2));
    });

    it('keeps keys apart', async () => {
      for (let i = 0; i < 3; i += 1) await limiter.take('ip:10.0.0.1', 1, T0, THREE_PER_MINUTE);
      expect((await limiter.take('ip:10.0.0.1', 1, T0, THREE_PER_MINUTE)).allowed).toBe(false);
      expect(await limiter.take('ip:10.0.0.2', 1, T0, THREE_PER_MINUTE)).toEqual(allowed(2));
      expect(await limiter.take('user:10.0.0.1', 1, T0, THREE_PER_MINUTE)).toEqual(allowed(2));
    });

    it('charges a cost of several tokens, and waits for all of them', async () => {
      const limit = { capacity: 10, refillSeconds: 10 };
      expect(await limiter.take('cost', 7, T0, limit)).toEqual(allowed(3));
      expect(await limiter.take('cost', 5, T0, limit)).toEqual(refused(2, 3));
      expect(await limiter.take('cost', 5, T0 + 2_000, limit)).toEqual(allowed(0));
    });

    it('does not refill when time goes backwards (another router with a slower clock)', async () => {
      for (let i = 0; i < 3; i += 1) await limiter.take('skew', 1, T0, THREE_PER_MINUTE);
      expect(await limiter.take('skew', 1, T0 - 60_000, THREE_PER_MINUTE)).toEqual(refused(20));
      expect(await limiter.take('skew', 1, T0 + 20_000, THREE_PER_MINUTE)).toEqual(allowed(0));
    });

    it('refuses impossible arguments instead of guessing', async () => {
      await expect(limiter.take('k', 4, T0, THREE_PER_MINUTE)).rejects.toThrow(RangeError);
      await expect(limiter.take('k', 0, T0, THREE_PER_MINUTE)).rejects.toThrow(RangeError);
      await expect(limiter.take('k', 1, T0, { capacity: 0, refillSeconds: 60 })).rejects.toThrow(RangeError);
      await expect(limiter.take('k', 1, T0, { capacity: 3, refillSeconds: 0 })).rejects.toThrow(RangeError);
      await expect(limiter.take('', 1, T0, THREE_PER_MINUTE)).rejects.toThrow(RangeError);
      await expect(limiter.take('k', 1, Number.NaN, THREE_PER_MINUTE)).rejects.toThrow(RangeError);
    });
  });
}

rateLimiterContract('in memory', describe, () => new InMemoryRateLimiter());
rateLimiterContract('Redis', describeRedis, () => new RedisRateLimiter({ url: TEST_REDIS_URL, prefix: freshRedisPrefix('ratelimit') }));

describe('InMemoryRateLimiter', () => {
  it('forgets buckets that have refilled, so many addresses do not grow memory for ever', async () => {
    const limiter = new InMemoryRateLimiter({ sweepEvery: 10 });
    for (let i = 0; i < 9; i += 1) await limiter.take(`ip:10.0.0.${i}`, 1, T0, THREE_PER_MINUTE);
    expect(limiter.size).toBe(9);
    // 20 s later each of them is full again; the tenth take sweeps them.
    await limiter.take('ip:10.0.1.1', 1, T0 + 20_000, THREE_PER_MINUTE);
    expect(limiter.size).toBe(1);
  });
});

describeRedis('RedisRateLimiter', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await admin.quit();
  });

  it('keeps each bucket under its prefix, expiring once it would be full again', async () => {
    const prefix = freshRedisPrefix('ratelimit');
    const limiter = new RedisRateLimiter({ url: TEST_REDIS_URL, prefix });
    try {
      await limiter.take('ip:10.0.0.1', 2, T0, THREE_PER_MINUTE);
      expect(await admin.keys(`${prefix}*`)).toEqual([`${prefix}:ratelimit:ip:10.0.0.1`]);
      // Two tokens short: full again in 40 s, plus a second of margin.
      const ttl = await admin.pttl(`${prefix}:ratelimit:ip:10.0.0.1`);
      expect(ttl).toBeGreaterThan(39_000);
      expect(ttl).toBeLessThanOrEqual(41_000);
    } finally {
      await limiter.dispose();
    }
  });

  it('never lets concurrent takes from several routers spend more than the capacity', async () => {
    const prefix = freshRedisPrefix('ratelimit');
    // Four limiters = four connections, as four routers would have; 50 takes each, all at once.
    const limiters = Array.from({ length: 4 }, () => new RedisRateLimiter({ url: TEST_REDIS_URL, prefix }));
    try {
      const limit = { capacity: 60, refillSeconds: 60 };
      const decisions = await Promise.all(
        limiters.flatMap((limiter) => Array.from({ length: 50 }, () => limiter.take('user:busy', 1, T0, limit))),
      );
      expect(decisions.filter((d) => d.allowed)).toHaveLength(60);
      expect(decisions.filter((d) => !d.allowed)).toHaveLength(140);
      expect(
        decisions
          .filter((d) => d.allowed)
          .map((d) => d.remaining)
          .sort((a, b) => a - b),
      ).toEqual(Array.from({ length: 60 }, (_, i) => i));
    } finally {
      await Promise.all(limiters.map((l) => l.dispose()));
    }
  });

  it('works on a connection it does not own, and loads its script again after SCRIPT FLUSH', async () => {
    const redis = new Redis(TEST_REDIS_URL);
    const limiter = new RedisRateLimiter({ redis, prefix: freshRedisPrefix('ratelimit') });
    try {
      expect(await limiter.take('k', 1, T0, THREE_PER_MINUTE)).toEqual(allowed(2));
      await admin.script('FLUSH');
      expect(await limiter.take('k', 1, T0, THREE_PER_MINUTE)).toEqual(allowed(1));
      await limiter.dispose();
      expect(await redis.ping()).toBe('PONG');
    } finally {
      await redis.quit();
    }
  });

  it('createRateLimiter picks Redis when a URL is given, memory otherwise', async () => {
    const inRedis = createRateLimiter({ redisUrl: TEST_REDIS_URL, prefix: freshRedisPrefix('ratelimit') });
    expect(inRedis).toBeInstanceOf(RedisRateLimiter);
    await inRedis.dispose();
    expect(createRateLimiter({})).toBeInstanceOf(InMemoryRateLimiter);
  });
});

describe('rate-limit settings', () => {
  it('defaults to 300 requests a minute per address and 600 per user, proxy not trusted', () => {
    expect(resolveRateLimit({}, {})).toEqual({ ipPerMinute: 300, userPerMinute: 600, trustProxy: false, clock: undefined });
  });

  it('reads the environment, 0 turning a limit off, and lets options override it', () => {
    const env = { SHELFWISE_RATE_LIMIT_IP_PER_MINUTE: '0', SHELFWISE_RATE_LIMIT_USER_PER_MINUTE: '50', SHELFWISE_TRUST_PROXY: 'true' };
    expect(resolveRateLimit({}, env)).toMatchObject({ ipPerMinute: 0, userPerMinute: 50, trustProxy: true });
    expect(resolveRateLimit({ ipPerMinute: 10, trustProxy: false }, env)).toMatchObject({
      ipPerMinute: 10,
      userPerMinute: 50,
      trustProxy: false,
    });
  });

  it('refuses negative or fractional rates', () => {
    expect(() => resolveRateLimit({}, { SHELFWISE_RATE_LIMIT_IP_PER_MINUTE: '-1' })).toThrow(/ipPerMinute must be a whole number/);
    expect(() => resolveRateLimit({ userPerMinute: 1.5 }, {})).toThrow(/userPerMinute/);
    expect(() => resolveRateLimit({}, { SHELFWISE_TRUST_PROXY: 'maybe' })).toThrow(/SHELFWISE_TRUST_PROXY/);
  });
});

describe('client addresses', () => {
  const request = (remoteAddress: string, forwardedFor?: string | string[]) =>
    ({
      socket: { remoteAddress },
      headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
    }) as unknown as http.IncomingMessage;

  it('uses the socket, ignoring X-Forwarded-For unless the proxy is trusted', () => {
    expect(clientAddress(request('10.0.0.5', '1.2.3.4'), false)).toBe('10.0.0.5');
  });

  it('behind a trusted proxy uses the right-most X-Forwarded-For entry, the one the proxy added', () => {
    expect(clientAddress(request('10.0.0.5', '1.2.3.4'), true)).toBe('1.2.3.4');
    // A client that sends its own header only adds entries to the left.
    expect(clientAddress(request('10.0.0.5', 'spoofed, 6.6.6.6 , 1.2.3.4'), true)).toBe('1.2.3.4');
    expect(clientAddress(request('10.0.0.5', ['9.9.9.9', '1.2.3.4']), true)).toBe('1.2.3.4');
    expect(clientAddress(request('10.0.0.5', 'not-an-address'), true)).toBe('10.0.0.5');
    expect(clientAddress(request('10.0.0.5'), true)).toBe('10.0.0.5');
  });

  it('keys IPv4 by address and IPv6 by its /64', () => {
    expect(addressKey('203.0.113.7')).toBe('ip:203.0.113.7');
    expect(addressKey('::ffff:203.0.113.7')).toBe('ip:203.0.113.7');
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('ip:2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2::9')).toBe('ip:2001:db8:1:2::/64');
    expect(addressKey('2001:DB8:1::')).toBe('ip:2001:db8:1:0::/64');
    expect(addressKey('::1')).toBe('ip:0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('ip:fe80:0:0:0::/64');
    expect(addressKey('64:ff9b::192.0.2.33')).toBe('ip:64:ff9b:0:0::/64');
    expect(addressKey('unknown')).toBe('ip:unknown');
  });
});

// ---------------------------------------------------------------------------------------------------
// In the router
// ---------------------------------------------------------------------------------------------------

function composeBooksOnly(): string {
  const result = composeServices([{ name: 'books', url: 'http://localhost:9/graphql', typeDefs: booksTypeDefs }]);
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.supergraphSdl;
}

interface Answer {
  status: number;
  retryAfter: string | null;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

const COUNT = JSON.stringify({ query: '{ books(first: 1) { totalCount } }' });

/** POSTs to the router from a chosen local address (127.0.0.x all reach a loopback listener). */
function postFrom(url: string, localAddress: string, headers: Record<string, string> = {}, body = COUNT): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', localAddress, agent: false, headers: { 'content-type': 'application/json', ...headers } },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => {
          const retryAfter = res.headers['retry-after'];
          let body: Answer['body'];
          try {
            body = JSON.parse(text) as Answer['body'];
          } catch {
            body = { errors: [{ message: text }] };
          }
          resolve({ status: res.statusCode ?? 0, retryAfter: typeof retryAfter === 'string' ? retryAfter : null, body });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A pino logger whose lines land in `lines`. */
function capturingLogger(): { logger: Logger; lines: { level: number; msg: string }[] } {
  const lines: { level: number; msg: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

const ADDRESS_LIMITED = (seconds: number) => ({
  errors: [
    {
      message: `Too many requests from this address; try again in ${seconds} seconds.`,
      extensions: { code: 'RATE_LIMITED', retryAfterSeconds: seconds },
    },
  ],
});

describe('the router, per address', () => {
  let books: BooksHandle;
  let supergraphSdl: string;
  let clock: ServiceClock;
  let router: RouterHandle;

  const start = (options: Parameters<typeof startRouter>[0] = {}) =>
    startRouter({ port: 0, host: '127.0.0.1', supergraphSdl, subgraphUrls: { books: books.url }, ...options });

  beforeAll(async () => {
    books = await startBooks({ port: 0 });
    await books.books.create({ isbn: '9781000000001', title: 'Middlemarch', authors: ['George Eliot'], genres: ['Fiction'], copies: 1 });
    supergraphSdl = composeBooksOnly();
    clock = new FrozenClock();
    router = await start({ rateLimit: { ipPerMinute: 3, clock } });
  });

  afterAll(async () => {
    await router?.stop();
    await books?.stop();
  });

  it('answers 429 with Retry-After and a GraphQL error once an address spent its bucket, asking no subgraph', async () => {
    for (let i = 0; i < 3; i += 1) {
      const ok = await postFrom(router.url, '127.0.0.1');
      expect([ok.status, ok.body]).toEqual([200, { data: { books: { totalCount: 1 } } }]);
    }
    router.resetFetchCounts();
    const limited = await postFrom(router.url, '127.0.0.1');
    expect(limited).toEqual({ status: 429, retryAfter: '20', body: ADDRESS_LIMITED(20) });
    expect(Object.fromEntries(router.fetchCounts)).toEqual({});

    // Another address has its own bucket.
    expect((await postFrom(router.url, '127.0.0.2')).status).toBe(200);
    // Health checks are not GraphQL requests and are never limited.
    expect((await fetch(new URL('/health', router.url))).status).toBe(200);

    // 19 s later one token is still missing; at 20 s it is there, and only one.
    clock.advance(19);
    expect(await postFrom(router.url, '127.0.0.1')).toMatchObject({
      status: 429,
      retryAfter: '1',
      body: { errors: [{ message: 'Too many requests from this address; try again in 1 second.' }] },
    });
    clock.advance(1);
    expect((await postFrom(router.url, '127.0.0.1')).status).toBe(200);
    expect((await postFrom(router.url, '127.0.0.1')).status).toBe(429);
  });

  it('counts requests the router refuses anyway (a batch, a malformed body) against the address', async () => {
    const other = await start({ rateLimit: { ipPerMinute: 2, clock } });
    try {
      expect((await postFrom(other.url, '127.0.0.3', {}, '[{"query":"{ __typename }"},{"query":"{ __typename }"}]')).status).toBe(400);
      expect((await postFrom(other.url, '127.0.0.3', {}, '{"query": ')).status).toBe(400);
      expect((await postFrom(other.url, '127.0.0.3')).status).toBe(429);
    } finally {
      await other.stop();
    }
  });

  it('behind a trusted proxy, limits the forwarded address, not the proxy', async () => {
    const proxied = await start({ rateLimit: { ipPerMinute: 1, trustProxy: true, clock } });
    try {
      expect((await postFrom(proxied.url, '127.0.0.1', { 'x-forwarded-for': '198.51.100.1' })).status).toBe(200);
      expect((await postFrom(proxied.url, '127.0.0.1', { 'x-forwarded-for': '198.51.100.1' })).status).toBe(429);
      // Same proxy, another client: its own bucket. A spoofed left-most entry changes nothing.
      expect((await postFrom(proxied.url, '127.0.0.1', { 'x-forwarded-for': '198.51.100.2' })).status).toBe(200);
      expect((await postFrom(proxied.url, '127.0.0.1', { 'x-forwarded-for': '203.0.113.9, 198.51.100.1' })).status).toBe(429);
    } finally {
      await proxied.stop();
    }
  });

  it('without proxy trust, X-Forwarded-For does not buy a fresh bucket', async () => {
    const direct = await start({ rateLimit: { ipPerMinute: 1, clock } });
    try {
      expect((await postFrom(direct.url, '127.0.0.4', { 'x-forwarded-for': '198.51.100.1' })).status).toBe(200);
      expect((await postFrom(direct.url, '127.0.0.4', { 'x-forwarded-for': '198.51.100.2' })).status).toBe(429);
    } finally {
      await direct.stop();
    }
  });

  it('0 turns the address limit off', async () => {
    const open = await start({ rateLimit: { ipPerMinute: 0, clock } });
    try {
      for (let i = 0; i < 20; i += 1) expect((await postFrom(open.url, '127.0.0.5')).status).toBe(200);
    } finally {
      await open.stop();
    }
  });

  it('lets requests through, with one warning, while the limiter store is down', async () => {
    const broken: RateLimiter = {
      take: () => Promise.reject(new Error('connect ECONNREFUSED')),
      dispose: async () => undefined,
    };
    const { logger, lines } = capturingLogger();
    const failing = await start({ rateLimiter: broken, rateLimit: { ipPerMinute: 1, clock }, logger });
    try {
      for (let i = 0; i < 3; i += 1) expect((await postFrom(failing.url, '127.0.0.6')).status).toBe(200);
      expect(lines.filter((l) => l.msg === 'rate limiter unavailable; requests pass unlimited')).toHaveLength(1);
    } finally {
      await failing.stop();
    }
  });

  describeRedis('with buckets in Redis', () => {
    it('two routers sharing a Redis share each address bucket', async () => {
      const prefix = freshRedisPrefix('ratelimit');
      const limiters = [new RedisRateLimiter({ url: TEST_REDIS_URL, prefix }), new RedisRateLimiter({ url: TEST_REDIS_URL, prefix })];
      const [a, b] = await Promise.all(limiters.map((rateLimiter) => start({ rateLimiter, rateLimit: { ipPerMinute: 3, clock } })));
      try {
        expect((await postFrom(a!.url, '127.0.0.7')).status).toBe(200);
        expect((await postFrom(b!.url, '127.0.0.7')).status).toBe(200);
        expect((await postFrom(a!.url, '127.0.0.7')).status).toBe(200);
        expect(await postFrom(b!.url, '127.0.0.7')).toEqual({ status: 429, retryAfter: '20', body: ADDRESS_LIMITED(20) });
      } finally {
        await Promise.all([a!.stop(), b!.stop()]);
        await Promise.all(limiters.map((l) => l.dispose()));
      }
    });
  });
});

describe('the per-user limit (Apollo plugin, viewer from the request context)', () => {
  let httpServer: http.Server;
  let apollo: ApolloServer<{ viewer: { userId: string } | null }>;
  let url: string;
  const clock = new ServiceClock(true);

  beforeAll(async () => {
    // The router's context will carry the signed-in viewer; here a test header stands in for the token.
    const { logger } = capturingLogger();
    apollo = new ApolloServer<{ viewer: { userId: string } | null }>({
      typeDefs: 'type Query { ping: String }',
      resolvers: { Query: { ping: () => 'pong' } },
      formatError: createRouterErrorFormatter(logger),
      plugins: [userRateLimitPlugin(new InMemoryRateLimiter(), resolveRateLimit({ userPerMinute: 2, clock }, {}), logger)],
    });
    await apollo.start();
    const app = express();
    app.use(
      '/graphql',
      express.json(),
      expressMiddleware(apollo, {
        context: async ({ req }) => {
          const user = req.headers['x-test-user'];
          return { viewer: typeof user === 'string' ? { userId: user } : null };
        },
      }),
    );
    httpServer = http.createServer(app);
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}/graphql`;
  });

  afterAll(async () => {
    await apollo?.stop();
    await new Promise((resolve) => httpServer?.close(resolve));
  });

  const ping = JSON.stringify({ query: '{ ping }' });

  it('answers 429 with Retry-After once a user spent their bucket; other users and anonymous callers go on', async () => {
    const ada = { 'x-test-user': 'ada' };
    expect(await postFrom(url, '127.0.0.1', ada, ping)).toEqual({ status: 200, retryAfter: null, body: { data: { ping: 'pong' } } });
    expect((await postFrom(url, '127.0.0.1', ada, ping)).status).toBe(200);
    expect(await postFrom(url, '127.0.0.1', ada, ping)).toEqual({
      status: 429,
      retryAfter: '30',
      body: {
        errors: [
          {
            message: 'Too many requests from this account; try again in 30 seconds.',
            extensions: { code: 'RATE_LIMITED', retryAfterSeconds: 30 },
          },
        ],
      },
    });
    expect((await postFrom(url, '127.0.0.1', { 'x-test-user': 'ben' }, ping)).status).toBe(200);
    for (let i = 0; i < 3; i += 1) expect((await postFrom(url, '127.0.0.1', {}, ping)).status).toBe(200);

    clock.advance(30);
    expect((await postFrom(url, '127.0.0.1', ada, ping)).status).toBe(200);
    expect((await postFrom(url, '127.0.0.1', ada, ping)).status).toBe(429);
  });
});

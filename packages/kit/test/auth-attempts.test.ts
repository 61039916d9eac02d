import { freshRedisPrefix, hasRedis, TEST_REDIS_URL } from '@shelfwise/testkit';
import { Redis } from 'ioredis';
import { InMemoryAttemptCounter, RedisAttemptCounter, type AttemptCounter } from '../src/auth/attempts.js';
import { ServiceClock } from '../src/clock.js';

const redisOk = await hasRedis();
const describeRedis = redisOk ? describe : describe.skip;

/** One counter under test plus a way to let time pass for it. */
interface CounterHarness {
  counter: AttemptCounter;
  /** Moves the counter's notion of time forward by whole seconds. */
  advance(seconds: number): Promise<void>;
}

/**
 * The behaviour every AttemptCounter must have. Retry-After values are compared with a one-second
 * allowance only where Redis's own clock keeps running between two calls.
 */
function attemptCounterContract(name: string, factory: () => CounterHarness) {
  describe(`AttemptCounter contract: ${name}`, () => {
    let harness: CounterHarness;
    let counter: AttemptCounter;

    beforeEach(() => {
      harness = factory();
      counter = harness.counter;
    });
    afterEach(() => counter.dispose());

    it('counts failures within the window', async () => {
      expect(await counter.hit('login:ann@example.org', 900)).toBe(1);
      expect(await counter.hit('login:ann@example.org', 900)).toBe(2);
      expect(await counter.hit('login:ann@example.org', 900)).toBe(3);
      expect(await counter.count('login:ann@example.org')).toBe(3);
    });

    it('answers 0 for a key that has no failures', async () => {
      expect(await counter.count('never-hit')).toBe(0);
      expect(await counter.retryAfter('never-hit')).toBe(0);
    });

    it('starts the window at the first failure and does not extend it with later ones', async () => {
      await counter.hit('k', 60);
      expect(await counter.retryAfter('k')).toBeGreaterThanOrEqual(59);
      expect(await counter.retryAfter('k')).toBeLessThanOrEqual(60);
      await harness.advance(30);
      expect(await counter.hit('k', 60)).toBe(2);
      // a later failure asking for a longer window does not move the end either
      await counter.hit('k', 3600);
      const left = await counter.retryAfter('k');
      expect(left).toBeGreaterThanOrEqual(29);
      expect(left).toBeLessThanOrEqual(30);
    });

    it('forgets the failures when the window ends, and the next failure opens a new one', async () => {
      await counter.hit('k', 60);
      await counter.hit('k', 60);
      await harness.advance(59);
      expect(await counter.count('k')).toBe(2);
      expect(await counter.retryAfter('k')).toBeGreaterThanOrEqual(1);
      await harness.advance(1);
      expect(await counter.count('k')).toBe(0);
      expect(await counter.retryAfter('k')).toBe(0);
      expect(await counter.hit('k', 120)).toBe(1);
      expect(await counter.retryAfter('k')).toBeGreaterThanOrEqual(119);
    });

    it('reset() clears one key', async () => {
      await counter.hit('k', 60);
      await counter.hit('k', 60);
      await counter.hit('other', 60);
      await counter.reset('k');
      expect(await counter.count('k')).toBe(0);
      expect(await counter.retryAfter('k')).toBe(0);
      expect(await counter.hit('k', 60)).toBe(1);
      expect(await counter.count('other')).toBe(1);
      await counter.reset('never-hit');
    });

    it('keeps keys apart, whatever characters they hold', async () => {
      const keys = [
        'login:account:ann@example.org',
        'login:account:Ann@example.org',
        'login:address:::1',
        'login:address:127.0.0.1',
        'a b*?[]',
      ];
      for (const [i, key] of keys.entries()) for (let n = 0; n <= i; n++) await counter.hit(key, 60 * (i + 1));
      for (const [i, key] of keys.entries()) expect(await counter.count(key)).toBe(i + 1);
      await harness.advance(60);
      expect(await counter.count(keys[0]!)).toBe(0);
      expect(await counter.count(keys[1]!)).toBe(2);
    });

    it('counts concurrent failures exactly', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, () => counter.hit('burst', 60)));
      expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await counter.count('burst')).toBe(20);
    });

    it('refuses a window that is not a whole number of seconds above 0, and an empty key', async () => {
      for (const window of [0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY])
        await expect(counter.hit('k', window)).rejects.toThrow(/whole number of seconds/);
      await expect(counter.hit('', 60)).rejects.toThrow(/non-empty/);
      expect(await counter.count('k')).toBe(0);
    });
  });
}

attemptCounterContract('InMemoryAttemptCounter', () => {
  const clock = new ServiceClock(true);
  return {
    counter: new InMemoryAttemptCounter(clock),
    advance: async (seconds) => void clock.advance(seconds),
  };
});

describe('InMemoryAttemptCounter specifics', () => {
  it('follows its clock exactly (the test clock moves lockouts too)', async () => {
    const clock = new ServiceClock(true);
    const counter = new InMemoryAttemptCounter(clock);
    await counter.hit('k', 900);
    expect(await counter.retryAfter('k')).toBe(900);
    clock.advance(899);
    expect(await counter.retryAfter('k')).toBe(1);
    clock.advance(1);
    expect(await counter.retryAfter('k')).toBe(0);
  });

  it('uses the wall clock when given none', async () => {
    const counter = new InMemoryAttemptCounter();
    expect(await counter.hit('k', 60)).toBe(1);
    expect(await counter.retryAfter('k')).toBeGreaterThan(0);
  });
});

describeRedis('RedisAttemptCounter against Redis', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await admin.quit();
  });

  async function keysUnder(prefix: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    return found;
  }

  attemptCounterContract('RedisAttemptCounter', () => {
    const prefix = freshRedisPrefix('attempts');
    return {
      counter: new RedisAttemptCounter({ url: TEST_REDIS_URL, prefix }),
      // Redis's clock cannot be moved: take the time off every key's TTL instead, as if it had passed.
      async advance(seconds) {
        for (const key of await keysUnder(prefix)) {
          const left = (await admin.pttl(key)) - seconds * 1000;
          if (left > 0) await admin.pexpire(key, left);
          else await admin.del(key);
        }
      },
    };
  });

  it('keeps each counter in one key under <prefix>:attempts: that expires with its window', async () => {
    const prefix = freshRedisPrefix('attempts');
    const counter = new RedisAttemptCounter({ url: TEST_REDIS_URL, prefix });
    try {
      await counter.hit('login:ann@example.org', 900);
      await counter.hit('login:ann@example.org', 900);
      expect(await keysUnder(prefix)).toEqual([`${prefix}:attempts:login:ann@example.org`]);
      expect(await admin.get(`${prefix}:attempts:login:ann@example.org`)).toBe('2');
      const ttl = await admin.ttl(`${prefix}:attempts:login:ann@example.org`);
      expect(ttl).toBeGreaterThan(890);
      expect(ttl).toBeLessThanOrEqual(900);
    } finally {
      await counter.dispose();
    }
  });

  it('shares counts between processes that use one prefix, and not across prefixes', async () => {
    const prefix = freshRedisPrefix('attempts');
    const a = new RedisAttemptCounter({ url: TEST_REDIS_URL, prefix });
    const b = new RedisAttemptCounter({ url: TEST_REDIS_URL, prefix });
    const elsewhere = new RedisAttemptCounter({ url: TEST_REDIS_URL, prefix: freshRedisPrefix('attempts') });
    try {
      await a.hit('k', 60);
      expect(await b.hit('k', 60)).toBe(2);
      expect(await elsewhere.count('k')).toBe(0);
    } finally {
      await Promise.all([a.dispose(), b.dispose(), elsewhere.dispose()]);
    }
  });

  it('refuses an empty or spaced prefix', () => {
    expect(() => new RedisAttemptCounter({ url: TEST_REDIS_URL, prefix: ' ' })).toThrow(/non-empty key prefix/);
    expect(() => new RedisAttemptCounter({ url: TEST_REDIS_URL, prefix: 'a b' })).toThrow(/whitespace/);
  });
});

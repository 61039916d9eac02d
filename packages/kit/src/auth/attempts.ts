import { Redis } from 'ioredis';
import { ServiceClock, type Clock } from '../clock.js';
import type { Logger } from '../logger.js';
import { closeRedis, redisKeyPrefix } from './sessions.js';

/**
 * Failure counters for login lockout (per account, per address). Fixed windows: a key's window opens at
 * its first failure and lasts `windowSeconds`; when it ends the count starts again from zero.
 */
export interface AttemptCounter {
  /** Records one failure for `key`; returns the failures within the window (window starts at the first failure). */
  hit(key: string, windowSeconds: number): Promise<number>;
  count(key: string): Promise<number>;
  /** Seconds until `key`'s window ends (0 when none). */
  retryAfter(key: string): Promise<number>;
  reset(key: string): Promise<void>;
  dispose(): Promise<void>;
}

function checkKey(key: string): void {
  if (typeof key !== 'string' || key === '') throw new Error('An attempt counter key must be a non-empty string.');
}

function checkWindow(windowSeconds: number): void {
  if (!Number.isSafeInteger(windowSeconds) || windowSeconds <= 0)
    throw new Error(`An attempt window must be a whole number of seconds above 0, got ${windowSeconds}.`);
}

/** The embedded default, on the injected clock (so the test clock moves lockouts too). */
export class InMemoryAttemptCounter implements AttemptCounter {
  private readonly windows = new Map<string, { count: number; endsAt: number }>();
  private lastSweep = Number.NEGATIVE_INFINITY;

  constructor(private readonly clock: Clock = new ServiceClock()) {}

  async hit(key: string, windowSeconds: number): Promise<number> {
    checkKey(key);
    checkWindow(windowSeconds);
    const now = this.clock.now().getTime();
    this.sweep(now);
    const window = this.live(key, now);
    if (window) return ++window.count;
    this.windows.set(key, { count: 1, endsAt: now + windowSeconds * 1000 });
    return 1;
  }

  async count(key: string): Promise<number> {
    checkKey(key);
    return this.live(key, this.clock.now().getTime())?.count ?? 0;
  }

  async retryAfter(key: string): Promise<number> {
    checkKey(key);
    const now = this.clock.now().getTime();
    const window = this.live(key, now);
    return window ? Math.ceil((window.endsAt - now) / 1000) : 0;
  }

  async reset(key: string): Promise<void> {
    checkKey(key);
    this.windows.delete(key);
  }

  async dispose(): Promise<void> {
    this.windows.clear();
  }

  private live(key: string, now: number) {
    const window = this.windows.get(key);
    if (window && window.endsAt > now) return window;
    if (window) this.windows.delete(key);
    return undefined;
  }

  /** Drops ended windows at most once a minute, so counters for one-off addresses do not pile up. */
  private sweep(now: number): void {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    for (const [key, window] of this.windows) if (window.endsAt <= now) this.windows.delete(key);
  }
}

/**
 * Counters in Redis under `<prefix>:attempts:<key>`: INCR and EXPIRE NX in one MULTI, so the window is
 * set by the first failure and never extended; Redis deletes the key when it ends. The window follows
 * Redis's own (wall) clock, not the service's test clock.
 */
export class RedisAttemptCounter implements AttemptCounter {
  private readonly redis: Redis;
  private readonly keys: string;
  private disposed = false;

  constructor(options: { url: string; prefix: string; logger?: Logger }) {
    const prefix = redisKeyPrefix(options.prefix, 'RedisAttemptCounter');
    this.keys = `${prefix}:attempts:`;
    this.redis = new Redis(options.url, { maxRetriesPerRequest: 3, connectionName: `${prefix}:attempts` });
    this.redis.on('error', (err) => options.logger?.warn({ err: { message: err.message } }, 'redis attempt counter connection error'));
  }

  async hit(key: string, windowSeconds: number): Promise<number> {
    checkKey(key);
    checkWindow(windowSeconds);
    const redisKey = this.keys + key;
    const replies = await this.redis.multi().incr(redisKey).expire(redisKey, windowSeconds, 'NX').exec();
    if (!replies) throw new Error('The attempt counter transaction was aborted.');
    const [incr, expire] = replies;
    if (incr?.[0]) throw incr[0];
    if (expire?.[0]) throw expire[0];
    return Number(incr?.[1]);
  }

  async count(key: string): Promise<number> {
    checkKey(key);
    return Number((await this.redis.get(this.keys + key)) ?? 0);
  }

  async retryAfter(key: string): Promise<number> {
    checkKey(key);
    const ms = await this.redis.pttl(this.keys + key);
    // -2: no such key; -1: no expiry (cannot happen, as INCR and EXPIRE run together).
    return ms > 0 ? Math.ceil(ms / 1000) : 0;
  }

  async reset(key: string): Promise<void> {
    checkKey(key);
    await this.redis.del(this.keys + key);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await closeRedis(this.redis);
  }
}

import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/** Receives one message published on a channel (already parsed from JSON). */
export type BusHandler = (message: unknown) => void;

/**
 * Publish/subscribe between services. Messages are JSON values; delivery is at-most-once (a subscriber
 * that is not connected when a message is published never sees it). Two implementations share one test
 * suite: {@link InMemoryBus} for the embedded default and {@link RedisBus} for real deployments.
 */
export interface EventBus {
  publish(channel: string, message: unknown): Promise<void>;
  /** Resolves once the subscription is active; the returned function unsubscribes this handler. */
  subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>>;
  /** Resolves when the bus can carry messages (Redis answers); rejects otherwise. Drives GET /ready. */
  ping(): Promise<void>;
  /** Closes every connection and drops every handler. Publishing afterwards throws. */
  dispose(): Promise<void>;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

class HandlerTable {
  private readonly handlers = new Map<string, Set<BusHandler>>();

  add(channel: string, handler: BusHandler): boolean {
    let set = this.handlers.get(channel);
    const first = !set;
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
    }
    set.add(handler);
    return first;
  }

  /** Returns true when the channel has no handler left. */
  remove(channel: string, handler: BusHandler): boolean {
    const set = this.handlers.get(channel);
    if (!set || !set.delete(handler)) return false;
    if (set.size > 0) return false;
    this.handlers.delete(channel);
    return true;
  }

  /** The handlers registered on `channel` right now (a copy). */
  snapshot(channel: string): BusHandler[] {
    return [...(this.handlers.get(channel) ?? [])];
  }

  has(channel: string, handler: BusHandler): boolean {
    return this.handlers.get(channel)?.has(handler) ?? false;
  }

  /**
   * Calls each handler that is still registered. A handler that throws, or returns a promise that
   * rejects, is logged and never stops the others (nor becomes an unhandled rejection).
   */
  deliver(channel: string, message: unknown, logger?: Logger, handlers: BusHandler[] = this.snapshot(channel)): void {
    for (const handler of handlers) {
      // A handler may have unsubscribed (itself or another) since the snapshot was taken.
      if (!this.has(channel, handler)) continue;
      try {
        const result: unknown = handler(message);
        if (isPromiseLike(result)) result.then(undefined, (err: unknown) => logger?.error({ err, channel }, 'bus handler failed'));
      } catch (err) {
        logger?.error({ err, channel }, 'bus handler threw');
      }
    }
  }

  get channelCount(): number {
    return this.handlers.size;
  }

  clear(): void {
    this.handlers.clear();
  }
}

/** JSON text of a message; refuses values JSON cannot carry (undefined, functions, symbols). */
function serialize(channel: string, message: unknown): string {
  const payload = JSON.stringify(message) as string | undefined;
  if (payload === undefined) throw new Error(`Cannot publish ${typeof message} on "${channel}": bus messages must be JSON values.`);
  return payload;
}

/** The in-process bus: same semantics as Redis (JSON round trip, asynchronous delivery, at-most-once). */
export class InMemoryBus implements EventBus {
  private readonly table = new HandlerTable();
  private disposed = false;

  constructor(private readonly logger?: Logger) {}

  async publish(channel: string, message: unknown): Promise<void> {
    if (this.disposed) throw new Error('The event bus has been disposed.');
    const payload = serialize(channel, message);
    // Only the handlers subscribed at publish time receive the message, as with Redis: one that
    // subscribes after publish() returned must not see it. Delivery happens on a later tick, as a
    // network bus would, never inside the publisher's call stack.
    const handlers = this.table.snapshot(channel);
    if (handlers.length === 0) return;
    setImmediate(() => this.table.deliver(channel, JSON.parse(payload), this.logger, handlers));
  }

  async subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    if (this.disposed) throw new Error('The event bus has been disposed.');
    this.table.add(channel, handler);
    return async () => {
      this.table.remove(channel, handler);
    };
  }

  /** Number of channels with at least one handler (for leak checks in tests). */
  get activeChannels(): number {
    return this.table.channelCount;
  }

  async ping(): Promise<void> {
    if (this.disposed) throw new Error('The event bus has been disposed.');
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.table.clear();
  }
}

export interface RedisBusOptions {
  url: string;
  /** Required, non-empty: every channel is namespaced with it so deployments sharing a Redis never cross. */
  prefix: string;
  logger?: Logger;
}

/**
 * Redis pub/sub through ioredis: one connection publishes, a separate one subscribes (a subscribing
 * connection cannot publish). ioredis resubscribes by itself after a reconnect.
 */
export class RedisBus implements EventBus {
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly table = new HandlerTable();
  /** SUBSCRIBE commands not yet acknowledged, by channel: later subscribers to the channel wait for them. */
  private readonly pending = new Map<string, Promise<unknown>>();
  private readonly prefix: string;
  private disposed = false;

  constructor(private readonly options: RedisBusOptions) {
    if (!options.prefix || options.prefix.trim() === '') throw new Error('RedisBus needs a non-empty channel prefix.');
    // The prefix also names the connections (CLIENT SETNAME), which Redis refuses when it has spaces.
    if (/\s/.test(options.prefix)) throw new Error(`RedisBus channel prefix "${options.prefix}" must not contain whitespace.`);
    this.prefix = options.prefix.endsWith(':') ? options.prefix : `${options.prefix}:`;
    const common = { maxRetriesPerRequest: 3, lazyConnect: false, enableAutoPipelining: true };
    this.publisher = new Redis(options.url, { ...common, connectionName: `${this.prefix}pub` });
    this.subscriber = new Redis(options.url, { ...common, connectionName: `${this.prefix}sub` });
    for (const conn of [this.publisher, this.subscriber]) {
      conn.on('error', (err) => options.logger?.warn({ err: { message: err.message } }, 'redis bus connection error'));
    }
    this.subscriber.on('message', (fullChannel: string, payload: string) => {
      if (!fullChannel.startsWith(this.prefix)) return;
      let message: unknown;
      try {
        message = JSON.parse(payload);
      } catch {
        options.logger?.warn({ channel: fullChannel }, 'dropped a bus message that is not JSON');
        return;
      }
      this.table.deliver(fullChannel.slice(this.prefix.length), message, options.logger);
    });
  }

  async publish(channel: string, message: unknown): Promise<void> {
    if (this.disposed) throw new Error('The event bus has been disposed.');
    await this.publisher.publish(this.prefix + channel, serialize(channel, message));
  }

  async subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    if (this.disposed) throw new Error('The event bus has been disposed.');
    if (this.table.add(channel, handler)) {
      const subscribed = this.subscriber.subscribe(this.prefix + channel);
      this.pending.set(channel, subscribed);
      try {
        await subscribed;
      } catch (err) {
        this.table.remove(channel, handler);
        throw err;
      } finally {
        if (this.pending.get(channel) === subscribed) this.pending.delete(channel);
      }
    } else {
      // Another handler's SUBSCRIBE for this channel may still be in flight: the promise must not
      // resolve before Redis would deliver to this handler.
      try {
        await this.pending.get(channel);
      } catch (err) {
        this.table.remove(channel, handler);
        throw err;
      }
    }
    return async () => {
      if (this.table.remove(channel, handler) && !this.disposed) await this.subscriber.unsubscribe(this.prefix + channel);
    };
  }

  /** Answers when Redis answers (used by readiness checks). */
  async ping(): Promise<void> {
    await this.publisher.ping();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.table.clear();
    await Promise.allSettled([this.publisher.quit(), this.subscriber.quit()]);
    for (const conn of [this.publisher, this.subscriber]) {
      // Only a connection QUIT did not close (e.g. still reconnecting). On one that has already ended,
      // disconnect() arms a 2 s destroy timer that nothing clears, holding the process open.
      if (conn.status !== 'end') conn.disconnect();
    }
  }
}

/** REDIS_URL set → RedisBus; otherwise the in-process bus (the embedded default). */
export function createBus(options: { redisUrl?: string; prefix?: string; logger?: Logger }): EventBus {
  if (options.redisUrl) return new RedisBus({ url: options.redisUrl, prefix: options.prefix ?? 'shelfwise', logger: options.logger });
  return new InMemoryBus(options.logger);
}

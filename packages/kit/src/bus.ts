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
  /** Closes every connection and drops every handler. Publishing afterwards throws. */
  dispose(): Promise<void>;
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

  deliver(channel: string, message: unknown, logger?: Logger): void {
    // Copy first: a handler may unsubscribe itself while we iterate.
    for (const handler of [...(this.handlers.get(channel) ?? [])]) {
      try {
        handler(message);
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

/** The in-process bus: same semantics as Redis (JSON round trip, asynchronous delivery). */
export class InMemoryBus implements EventBus {
  private readonly table = new HandlerTable();
  private disposed = false;

  constructor(private readonly logger?: Logger) {}

  async publish(channel: string, message: unknown): Promise<void> {
    if (this.disposed) throw new Error('The event bus has been disposed.');
    const payload = JSON.stringify(message);
    // Deliver on a later tick, as a network bus would; never inside the publisher's call stack.
    setImmediate(() => this.table.deliver(channel, JSON.parse(payload), this.logger));
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
  private readonly prefix: string;
  private disposed = false;

  constructor(private readonly options: RedisBusOptions) {
    if (!options.prefix || options.prefix.trim() === '') throw new Error('RedisBus needs a non-empty channel prefix.');
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
    await this.publisher.publish(this.prefix + channel, JSON.stringify(message));
  }

  async subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    if (this.disposed) throw new Error('The event bus has been disposed.');
    if (this.table.add(channel, handler)) await this.subscriber.subscribe(this.prefix + channel);
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
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}

/** REDIS_URL set → RedisBus; otherwise the in-process bus (the embedded default). */
export function createBus(options: { redisUrl?: string; prefix?: string; logger?: Logger }): EventBus {
  if (options.redisUrl) return new RedisBus({ url: options.redisUrl, prefix: options.prefix ?? 'shelfwise', logger: options.logger });
  return new InMemoryBus(options.logger);
}

import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/** Receives one message published on a channel (already parsed from JSON). */
export type BusHandler = (message: unknown) => void;

/**
 * Handles one entry of a durable stream (already parsed from JSON). The entry is acknowledged once the
 * returned promise resolves; when it throws or rejects the entry stays pending and is delivered again
 * (to this consumer or another of its group) once it has been idle for `claimIdleMs`.
 */
export type StreamHandler = (message: unknown, entry: { id: string }) => unknown;

export interface ConsumeOptions {
  /** Entries handled at once by this consumer (the rest wait in the stream). Default 4. */
  concurrency?: number;
  /** An entry delivered but not acknowledged for this long is reclaimed and delivered again. Default 30 s. */
  claimIdleMs?: number;
  /** Longest a read blocks waiting for new entries (also how often idle entries are looked for). Default 2 s. */
  blockMs?: number;
}

/**
 * Stops a consumer: no entry is read after it resolves, the entries being handled are finished (and
 * acknowledged) first. `settled()` resolves once the consumer has caught up with its stream and no
 * handler is running (tests, shutdown).
 */
export type StopConsuming = (() => Promise<void>) & { settled(): Promise<void> };

/**
 * Messages between services, JSON values, in two kinds:
 *
 * - pub/sub channels (`publish`/`subscribe`), at-most-once: a subscriber that is not connected when a
 *   message is published never sees it. For live pushes.
 * - durable streams (`append`/`consume`), at-least-once with consumer groups: every group gets every entry,
 *   each entry goes to one consumer of the group, and an entry its consumer did not acknowledge (it
 *   crashed, or its handler failed) is delivered again, so consumers deduplicate. Streams keep roughly
 *   the last `streamMaxLength` entries. For domain events (Redis Streams; in process, the same semantics
 *   within the process).
 *
 * Two implementations share one test suite: {@link InMemoryBus} for the embedded default and
 * {@link RedisBus} for real deployments.
 */
export interface EventBus {
  publish(channel: string, message: unknown): Promise<void>;
  /** Resolves once the subscription is active; the returned function unsubscribes this handler. */
  subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>>;
  /** Adds `message` to the durable stream; resolves once the stream holds it. Returns the entry id. */
  append(stream: string, message: unknown): Promise<string>;
  /**
   * Consumes `stream` as `consumer` (unique per process) in consumer group `group` (created on first use,
   * from the start of the stream). Resolves once the group exists.
   */
  consume(stream: string, group: string, consumer: string, handler: StreamHandler, options?: ConsumeOptions): Promise<StopConsuming>;
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

/** Approximate number of entries a stream keeps (older ones are trimmed), unless the bus is told otherwise. */
export const DEFAULT_STREAM_MAX_LENGTH = 100_000;

/** One entry read from a stream: its id and its JSON text. */
interface StreamEntry {
  id: string;
  payload: string;
}

/** What the consumer loop needs from a transport, for one consumer of one group. */
interface StreamSource {
  /** New entries for this consumer (at most `count`), waiting up to `blockMs` when there are none (null: not at all). */
  read(count: number, blockMs: number | null): Promise<StreamEntry[]>;
  /** Entries of the group idle (delivered, not acknowledged) for `minIdleMs` or more, now this consumer's. */
  claim(minIdleMs: number, count: number): Promise<StreamEntry[]>;
  ack(id: string): Promise<void>;
  /** Makes a read that is blocking return (or fail) at once. */
  interrupt(): void;
  /** Releases what the source holds (called once, after the loop ended and every handler finished). */
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The consumer loop both buses share: reclaims idle entries, reads new ones (at most `concurrency` in
 * flight), runs the handler and acknowledges after it resolved. A handler that fails leaves its entry
 * pending, for a reclaim after `claimIdleMs`.
 */
class StreamConsumerLoop {
  private stopped = false;
  private inflight = 0;
  /** The last read found nothing new: the consumer has caught up. */
  private caughtUp = false;
  private slotWaiter: (() => void) | null = null;
  private settledWaiters: (() => void)[] = [];
  private readonly loop: Promise<void>;
  private readonly concurrency: number;
  private readonly claimIdleMs: number;
  private readonly blockMs: number;

  constructor(
    private readonly source: StreamSource,
    private readonly handler: StreamHandler,
    private readonly where: { stream: string; group: string; consumer: string },
    options: ConsumeOptions,
    private readonly logger?: Logger,
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.claimIdleMs = Math.max(1, options.claimIdleMs ?? 30_000);
    this.blockMs = Math.max(1, options.blockMs ?? 2_000);
    this.loop = this.run();
  }

  private async run(): Promise<void> {
    // Look for idle entries about twice per idle period (and at start: a restarted consumer's own).
    const claimEvery = Math.max(1, Math.floor(this.claimIdleMs / 2));
    let nextClaim = 0;
    let failures = 0;
    while (!this.stopped) {
      if (this.inflight >= this.concurrency) {
        await new Promise<void>((resolve) => (this.slotWaiter = resolve));
        continue;
      }
      const free = this.concurrency - this.inflight;
      try {
        let entries: StreamEntry[] = [];
        if (Date.now() >= nextClaim) {
          entries = await this.source.claim(this.claimIdleMs, free);
          nextClaim = Date.now() + claimEvery;
        }
        if (entries.length === 0) entries = await this.source.read(free, null);
        if (entries.length === 0 && !this.stopped) {
          this.caughtUp = true;
          this.notifySettled();
          entries = await this.source.read(free, Math.max(1, Math.min(this.blockMs, nextClaim - Date.now())));
        }
        failures = 0;
        if (entries.length > 0) this.caughtUp = false;
        for (const entry of entries) this.dispatch(entry);
      } catch (err) {
        if (this.stopped) break;
        failures += 1;
        this.logger?.warn({ err, ...this.where }, 'reading a stream failed; retrying');
        await sleep(Math.min(5_000, 100 * failures * failures));
      }
    }
  }

  private dispatch(entry: StreamEntry): void {
    this.inflight += 1;
    void (async () => {
      let message: unknown;
      try {
        message = JSON.parse(entry.payload);
      } catch {
        this.logger?.warn({ ...this.where, entryId: entry.id }, 'dropped a stream entry that is not JSON');
        await this.source.ack(entry.id);
        return;
      }
      await this.handler(message, { id: entry.id });
      await this.source.ack(entry.id);
    })()
      .catch((err: unknown) => {
        this.logger?.error({ err, ...this.where, entryId: entry.id }, 'stream handler failed; the entry will be delivered again');
      })
      .finally(() => {
        this.inflight -= 1;
        const wake = this.slotWaiter;
        this.slotWaiter = null;
        wake?.();
        this.notifySettled();
      });
  }

  private notifySettled(): void {
    if (this.inflight > 0 || !(this.caughtUp || this.stopped)) return;
    const waiters = this.settledWaiters;
    this.settledWaiters = [];
    for (const resolve of waiters) resolve();
  }

  settled(): Promise<void> {
    if (this.inflight === 0 && (this.caughtUp || this.stopped)) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.source.interrupt();
      const wake = this.slotWaiter;
      this.slotWaiter = null;
      wake?.();
      // A blocking read sent just before the interrupt may not have reached the server yet: ask again.
      const again = setInterval(() => this.source.interrupt(), 100);
      try {
        await this.loop;
      } finally {
        clearInterval(again);
      }
      await this.settled();
      await this.source.close();
    }
    await this.settled();
  }

  stopFunction(): StopConsuming {
    return Object.assign(() => this.stop(), { settled: () => this.settled() });
  }
}

interface MemoryPending {
  entry: StreamEntry;
  consumer: string;
  deliveredAt: number;
}

interface MemoryGroup {
  /** Sequence number of the last entry handed out ('>' in Redis terms). */
  lastSeq: number;
  pending: Map<string, MemoryPending>;
  /** Blocked readers, woken by an append. */
  waiters: Set<() => void>;
}

interface MemoryStream {
  entries: (StreamEntry & { seq: number })[];
  nextSeq: number;
  groups: Map<string, MemoryGroup>;
}

/** The in-process bus: same semantics as Redis (JSON round trip, asynchronous delivery, at-most-once). */
export class InMemoryBus implements EventBus {
  private readonly table = new HandlerTable();
  private readonly streams = new Map<string, MemoryStream>();
  private readonly consumers = new Set<StreamConsumerLoop>();
  private disposed = false;
  private readonly streamMaxLength: number;

  constructor(
    private readonly logger?: Logger,
    options: { streamMaxLength?: number } = {},
  ) {
    this.streamMaxLength = Math.max(1, options.streamMaxLength ?? DEFAULT_STREAM_MAX_LENGTH);
  }

  private stream(name: string): MemoryStream {
    let stream = this.streams.get(name);
    if (!stream) {
      stream = { entries: [], nextSeq: 1, groups: new Map() };
      this.streams.set(name, stream);
    }
    return stream;
  }

  async append(stream: string, message: unknown): Promise<string> {
    if (this.disposed) throw new Error('The event bus has been disposed.');
    const payload = serialize(stream, message);
    const s = this.stream(stream);
    const seq = s.nextSeq++;
    const id = `${seq}-0`;
    s.entries.push({ seq, id, payload });
    if (s.entries.length > this.streamMaxLength) s.entries.splice(0, s.entries.length - this.streamMaxLength);
    for (const group of s.groups.values()) {
      const waiters = [...group.waiters];
      group.waiters.clear();
      for (const wake of waiters) wake();
    }
    return id;
  }

  async consume(
    stream: string,
    group: string,
    consumer: string,
    handler: StreamHandler,
    options: ConsumeOptions = {},
  ): Promise<StopConsuming> {
    if (this.disposed) throw new Error('The event bus has been disposed.');
    const s = this.stream(stream);
    let g = s.groups.get(group);
    if (!g) {
      g = { lastSeq: 0, pending: new Map(), waiters: new Set() };
      s.groups.set(group, g);
    }
    const state = g;
    let wakeReader: (() => void) | null = null;
    const take = (count: number): StreamEntry[] => {
      const fresh = s.entries.filter((e) => e.seq > state.lastSeq).slice(0, count);
      const last = fresh.at(-1);
      if (last) state.lastSeq = last.seq;
      const now = Date.now();
      for (const e of fresh) state.pending.set(e.id, { entry: { id: e.id, payload: e.payload }, consumer, deliveredAt: now });
      return fresh.map((e) => ({ id: e.id, payload: e.payload }));
    };
    const source: StreamSource = {
      read: async (count, blockMs) => {
        const found = take(count);
        if (found.length > 0 || blockMs === null) return found;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, blockMs);
          function done() {
            clearTimeout(timer);
            state.waiters.delete(done);
            wakeReader = null;
            resolve();
          }
          state.waiters.add(done);
          wakeReader = done;
        });
        // Delivered on a later tick, as a network bus would, never inside the appender's call stack.
        await new Promise<void>((resolve) => setImmediate(resolve));
        return take(count);
      },
      claim: async (minIdleMs, count) => {
        const now = Date.now();
        const claimed: StreamEntry[] = [];
        const oldest = s.entries[0]?.seq ?? Infinity;
        for (const [id, p] of state.pending) {
          if (claimed.length >= count) break;
          if (now - p.deliveredAt < minIdleMs) continue;
          // Trimmed away while pending: nothing left to deliver (Redis drops it from the pending list too).
          if (Number.parseInt(id, 10) < oldest) {
            state.pending.delete(id);
            continue;
          }
          p.consumer = consumer;
          p.deliveredAt = now;
          claimed.push(p.entry);
        }
        return claimed;
      },
      ack: async (id) => {
        state.pending.delete(id);
      },
      interrupt: () => {
        const wake = wakeReader as (() => void) | null;
        wake?.();
      },
      close: async () => {
        this.consumers.delete(loop);
      },
    };
    const loop = new StreamConsumerLoop(source, handler, { stream, group, consumer }, options, this.logger);
    this.consumers.add(loop);
    const stop = loop.stopFunction();
    return Object.assign(() => stop(), {
      // Also waits for entries appended but not yet read (the reader wakes on a later tick).
      settled: async () => {
        for (;;) {
          await stop.settled();
          if (!this.consumers.has(loop) || !s.entries.some((e) => e.seq > state.lastSeq)) return;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      },
    });
  }

  /** Consumers started and not stopped (for leak checks in tests). */
  get activeConsumers(): number {
    return this.consumers.size;
  }

  /** Entries of `group` delivered and not acknowledged (for tests and inspection). */
  pendingCount(stream: string, group: string): number {
    return this.streams.get(stream)?.groups.get(group)?.pending.size ?? 0;
  }

  /** Entries `stream` holds now. */
  streamLength(stream: string): number {
    return this.streams.get(stream)?.entries.length ?? 0;
  }

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

  /** Stops every consumer (finishing the entries they are handling), then drops handlers and streams. */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.table.clear();
    await Promise.allSettled([...this.consumers].map((c) => c.stop()));
    this.streams.clear();
  }
}

export interface RedisBusOptions {
  url: string;
  /** Required, non-empty: every channel is namespaced with it so deployments sharing a Redis never cross. */
  prefix: string;
  logger?: Logger;
  /** Entries each stream keeps, approximately (XADD MAXLEN ~). Default {@link DEFAULT_STREAM_MAX_LENGTH}. */
  streamMaxLength?: number;
}

type StreamReply = [id: string, fields: string[] | null][];

function entriesOf(reply: StreamReply): StreamEntry[] {
  const entries: StreamEntry[] = [];
  for (const [id, fields] of reply) {
    // A pending entry trimmed from the stream comes back without fields: nothing to deliver.
    if (!fields) continue;
    const at = fields.indexOf('m');
    entries.push({ id, payload: at >= 0 && at % 2 === 0 ? (fields[at + 1] ?? '') : '' });
  }
  return entries;
}

function isRedisError(err: unknown, code: string): boolean {
  return err instanceof Error && err.message.startsWith(code);
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
  private readonly consumers = new Set<StreamConsumerLoop>();
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

  /** XADD with approximate trimming (MAXLEN ~): Redis trims whole nodes, cheaply, keeping at least the limit. */
  async append(stream: string, message: unknown): Promise<string> {
    if (this.disposed) throw new Error('The event bus has been disposed.');
    const id = await this.publisher.xadd(
      this.prefix + stream,
      'MAXLEN',
      '~',
      String(this.options.streamMaxLength ?? DEFAULT_STREAM_MAX_LENGTH),
      '*',
      'm',
      serialize(stream, message),
    );
    if (id === null) throw new Error(`Redis did not add the entry to stream "${stream}".`);
    return id;
  }

  /**
   * A consumer in a Redis consumer group: XREADGROUP … BLOCK on a connection of its own (a blocked read
   * holds its connection), XACK after the handler resolved, XAUTOCLAIM of entries idle for claimIdleMs
   * (a crashed consumer's). stop() unblocks the read (CLIENT UNBLOCK), finishes the handlers, and removes
   * the consumer from the group when it has nothing pending.
   */
  async consume(
    stream: string,
    group: string,
    consumer: string,
    handler: StreamHandler,
    options: ConsumeOptions = {},
  ): Promise<StopConsuming> {
    if (this.disposed) throw new Error('The event bus has been disposed.');
    if (/\s/.test(consumer) || consumer === '') throw new Error(`Consumer name "${consumer}" must be non-empty without whitespace.`);
    const key = this.prefix + stream;
    const createGroup = async () => {
      try {
        await this.publisher.xgroup('CREATE', key, group, '0', 'MKSTREAM');
      } catch (err) {
        if (!isRedisError(err, 'BUSYGROUP')) throw err;
      }
    };
    await createGroup();
    const reader = new Redis(this.options.url, {
      maxRetriesPerRequest: 3,
      enableAutoPipelining: false,
      connectionName: `${this.prefix}stream:${consumer}`,
    });
    reader.on('error', (err) => this.options.logger?.warn({ err: { message: err.message } }, 'redis stream connection error'));
    let readerId: number | null = null;
    try {
      readerId = Number(await reader.client('ID'));
    } catch (err) {
      reader.disconnect();
      throw err;
    }
    // After a reconnect the connection has a new id: learn it again so stop() can unblock it.
    reader.on('ready', () => {
      reader.client('ID').then(
        (id) => (readerId = Number(id)),
        () => undefined,
      );
    });
    /** Runs a command, recreating the group once if Redis lost it (restarted without persistence). */
    const withGroup = async <T>(command: () => Promise<T>): Promise<T> => {
      try {
        return await command();
      } catch (err) {
        if (!isRedisError(err, 'NOGROUP')) throw err;
        await createGroup();
        return command();
      }
    };
    let closed = false;
    const source: StreamSource = {
      read: async (count, blockMs) => {
        if (closed) return [];
        const reply = (await withGroup(() =>
          blockMs === null
            ? reader.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'STREAMS', key, '>')
            : reader.xreadgroup('GROUP', group, consumer, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', key, '>'),
        )) as [string, StreamReply][] | null;
        return reply?.[0] ? entriesOf(reply[0][1]) : [];
      },
      claim: async (minIdleMs, count) => {
        const reply = (await withGroup(() => reader.xautoclaim(key, group, consumer, minIdleMs, '0-0', 'COUNT', count))) as [
          string,
          StreamReply,
          ...unknown[],
        ];
        return entriesOf(reply[1]);
      },
      ack: async (id) => {
        await this.publisher.xack(key, group, id);
      },
      interrupt: () => {
        closed = true;
        if (readerId !== null && !this.disposed) this.publisher.client('UNBLOCK', readerId).catch(() => undefined);
      },
      close: async () => {
        this.consumers.delete(loop);
        try {
          const pending = (await this.publisher.xpending(key, group, '-', '+', 1, consumer)) as unknown[];
          if (pending.length === 0) await this.publisher.xgroup('DELCONSUMER', key, group, consumer);
        } catch (err) {
          this.options.logger?.warn({ err, stream, group, consumer }, 'could not remove a stopped stream consumer');
        }
        await reader.quit().catch(() => undefined);
        if (reader.status !== 'end') reader.disconnect();
      },
    };
    const loop = new StreamConsumerLoop(source, handler, { stream, group, consumer }, options, this.options.logger);
    this.consumers.add(loop);
    return loop.stopFunction();
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
    // Consumers first, while the connections they acknowledge on are still open.
    await Promise.allSettled([...this.consumers].map((c) => c.stop()));
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

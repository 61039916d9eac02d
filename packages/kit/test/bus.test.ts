import { Writable } from 'node:stream';
import { InMemoryBus, RedisBus, type EventBus, type Logger } from '@shelfwise/kit';
import { eventually, freshRedisPrefix, hasRedis, TEST_REDIS_URL } from '@shelfwise/testkit';
import { Redis } from 'ioredis';
import { pino } from 'pino';

const redisOk = await hasRedis();
const describeRedis = redisOk ? describe : describe.skip;

/** A pino logger whose lines land in `lines` (to check that failures are logged, not lost). */
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

/** One bus under test plus a way to look at the transport underneath it. */
interface BusHarness {
  bus: EventBus;
  /** Channels this bus still holds a subscription for (Redis: on the server; in memory: in its table). */
  channelsLeft(): Promise<number>;
}

type BusFactory = (logger: Logger) => Promise<BusHarness>;

/** Records what a handler received. */
function recorder() {
  const received: unknown[] = [];
  return { received, handler: (message: unknown) => void received.push(message) };
}

/**
 * The behaviour every EventBus must have. Delivery is asynchronous, so every "was delivered" waits with
 * eventually(), and every "was NOT delivered" is proved by a later message on the same channel that did
 * arrive (both transports keep the publish order).
 */
function busContract(name: string, factory: BusFactory) {
  describe(`EventBus contract: ${name}`, () => {
    let harness: BusHarness;
    let bus: EventBus;
    let log: ReturnType<typeof capturingLogger>;

    beforeEach(async () => {
      log = capturingLogger();
      harness = await factory(log.logger);
      bus = harness.bus;
    });
    afterEach(() => bus.dispose());

    it('delivers published values after a JSON round trip', async () => {
      const { received, handler } = recorder();
      await bus.subscribe('loans', handler);
      const sent = { loanId: 'l-1', due: new Date('2026-11-23T10:00:00.000Z'), tags: ['a', 1, null, true], dropped: undefined };
      await bus.publish('loans', sent);
      await bus.publish('loans', 'plain string');
      await bus.publish('loans', 42);
      await bus.publish('loans', null);
      await eventually(() => received.length === 4, 5000, 'four messages');
      expect(received).toEqual([{ loanId: 'l-1', due: '2026-11-23T10:00:00.000Z', tags: ['a', 1, null, true] }, 'plain string', 42, null]);
      // a copy, never the publisher's object
      expect(received[0]).not.toBe(sent);
      expect(Object.keys(received[0] as object)).not.toContain('dropped');
    });

    it('delivers each message once to every handler on the channel', async () => {
      const a = recorder();
      const b = recorder();
      const c = recorder();
      await bus.subscribe('holds', a.handler);
      await bus.subscribe('holds', b.handler);
      await bus.subscribe('holds', c.handler);
      await bus.publish('holds', { n: 1 });
      await bus.publish('holds', { n: 2 });
      await eventually(() => a.received.length === 2 && b.received.length === 2 && c.received.length === 2, 5000, 'all three handlers');
      for (const r of [a, b, c]) expect(r.received).toEqual([{ n: 1 }, { n: 2 }]);
    });

    it('keeps channels separate', async () => {
      const loans = recorder();
      const holds = recorder();
      await bus.subscribe('loans', loans.handler);
      await bus.subscribe('holds', holds.handler);
      await bus.publish('loans', 'for loans');
      await bus.publish('holds', 'for holds');
      await bus.publish('loans', 'loans again');
      await eventually(() => loans.received.length === 2 && holds.received.length === 1, 5000, 'both channels');
      expect(loans.received).toEqual(['for loans', 'loans again']);
      expect(holds.received).toEqual(['for holds']);
    });

    it('stops delivering to a handler once it unsubscribed, and keeps the others', async () => {
      const leaving = recorder();
      const staying = recorder();
      const unsubscribe = await bus.subscribe('fines', leaving.handler);
      await bus.subscribe('fines', staying.handler);
      await bus.publish('fines', 1);
      await eventually(() => leaving.received.length === 1 && staying.received.length === 1, 5000, 'first message');
      await unsubscribe();
      await unsubscribe(); // a second call is harmless
      await bus.publish('fines', 2);
      await eventually(() => staying.received.length === 2, 5000, 'second message to the remaining handler');
      expect(leaving.received).toEqual([1]);
      expect(staying.received).toEqual([1, 2]);
      expect(await harness.channelsLeft()).toBe(1);
    });

    it('releases the channel when its last handler leaves', async () => {
      const first = await bus.subscribe('notifications', () => undefined);
      const second = await bus.subscribe('notifications', () => undefined);
      const other = await bus.subscribe('other', () => undefined);
      expect(await harness.channelsLeft()).toBe(2);
      await first();
      expect(await harness.channelsLeft()).toBe(2);
      await second();
      expect(await harness.channelsLeft()).toBe(1);
      await other();
      expect(await harness.channelsLeft()).toBe(0);

      // and the channel works again when someone comes back
      const again = recorder();
      await bus.subscribe('notifications', again.handler);
      await bus.publish('notifications', 'back');
      await eventually(() => again.received.length === 1, 5000, 'delivery after resubscribing');
      expect(again.received).toEqual(['back']);
    });

    it('does not let a handler that throws or rejects stop the others, and logs it', async () => {
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown) => void unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        const healthy = recorder();
        await bus.subscribe('events', () => {
          throw new Error('sync handler failure');
        });
        // A BusHandler returns void, but an async function is assignable to it: its rejection must be caught too.
        await bus.subscribe('events', async () => {
          await Promise.resolve();
          throw new Error('async handler failure');
        });
        await bus.subscribe('events', healthy.handler);
        await bus.publish('events', 'one');
        await bus.publish('events', 'two');
        await eventually(() => healthy.received.length === 2, 5000, 'the healthy handler');
        await eventually(() => log.lines.filter((l) => l.level >= 50).length === 4, 5000, 'four logged handler failures');
        expect(healthy.received).toEqual(['one', 'two']);
        expect(log.lines.filter((l) => l.msg === 'bus handler threw')).toHaveLength(2);
        expect(log.lines.filter((l) => l.msg === 'bus handler failed')).toHaveLength(2);
        // give a would-be unhandled rejection the chance to surface before looking
        await new Promise((resolve) => setImmediate(resolve));
        expect(unhandled).toEqual([]);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });

    it('skips a handler that another handler unsubscribed during the same delivery', async () => {
      const late = recorder();
      // runs first on delivery, and unsubscribes the handler registered after it
      await bus.subscribe('events', () => void unsubscribeLate());
      const unsubscribeLate = await bus.subscribe('events', late.handler);
      const probe = recorder();
      await bus.subscribe('events', probe.handler);
      await bus.publish('events', 'x');
      await eventually(() => probe.received.length === 1, 5000, 'the probe handler');
      expect(late.received).toEqual([]);
    });

    it('is at-most-once: a message published before subscribing is never delivered', async () => {
      await bus.publish('returns', 'before');
      const { received, handler } = recorder();
      await bus.subscribe('returns', handler);
      await bus.publish('returns', 'after');
      await eventually(() => received.length >= 1, 5000, 'the message published after subscribing');
      expect(received).toEqual(['after']);
    });

    it('resolves subscribe() only once the handler will receive messages, even when another subscribe to the channel is in flight', async () => {
      const channels = ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'];
      const recorders = channels.map(() => recorder());
      await Promise.all(
        channels.map(async (channel, i) => {
          const inFlight = bus.subscribe(channel, () => undefined);
          await bus.subscribe(channel, recorders[i]!.handler);
          // published right after this subscribe resolved, possibly before the first one did
          await bus.publish(channel, `to ${channel}`);
          await inFlight;
        }),
      );
      await eventually(() => recorders.every((r) => r.received.length === 1), 5000, 'one message on every channel');
      expect(recorders.map((r) => r.received[0])).toEqual(channels.map((c) => `to ${c}`));
    });

    it('refuses to publish values JSON cannot carry, and keeps working', async () => {
      const { received, handler } = recorder();
      await bus.subscribe('events', handler);
      await expect(bus.publish('events', undefined)).rejects.toThrow(/JSON/);
      await expect(bus.publish('events', () => 1)).rejects.toThrow(/JSON/);
      await expect(bus.publish('events', { n: 1n })).rejects.toThrow(/BigInt/);
      await bus.publish('events', 'fine');
      await eventually(() => received.length === 1, 5000, 'the valid message');
      expect(received).toEqual(['fine']);
    });

    it('answers ping() while open and refuses it after dispose() (drives GET /ready)', async () => {
      await expect(bus.ping()).resolves.toBeUndefined();
      await bus.dispose();
      await expect(bus.ping()).rejects.toThrow();
    });

    it('drops every handler on dispose() and refuses to publish or subscribe afterwards', async () => {
      await bus.subscribe('events', () => undefined);
      await bus.dispose();
      await bus.dispose(); // idempotent
      await eventually(async () => (await harness.channelsLeft()) === 0, 5000, 'no channel left');
      await expect(bus.publish('events', 'late')).rejects.toThrow(/disposed/);
      await expect(bus.subscribe('events', () => undefined)).rejects.toThrow(/disposed/);
    });
  });
}

busContract('InMemoryBus', async (logger) => {
  const bus = new InMemoryBus(logger);
  return { bus, channelsLeft: async () => bus.activeChannels };
});

describeRedis('RedisBus against Redis', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await admin.quit();
  });

  /** Subscriber count of one fully qualified channel, as Redis itself sees it. */
  async function numsub(fullChannel: string): Promise<number> {
    const reply = (await admin.pubsub('NUMSUB', fullChannel)) as [string, number];
    return Number(reply[1]);
  }

  /** Names of the client connections Redis currently has open. */
  async function clientNames(): Promise<string[]> {
    const list = (await admin.client('LIST')) as string;
    return list
      .split('\n')
      .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
      .filter((n) => n !== '');
  }

  busContract('RedisBus', async (logger) => {
    const prefix = freshRedisPrefix('bus');
    const bus = new RedisBus({ url: TEST_REDIS_URL, prefix, logger });
    return { bus, channelsLeft: async () => ((await admin.pubsub('CHANNELS', `${prefix}:*`)) as string[]).length };
  });

  describe('Redis specifics', () => {
    const buses: RedisBus[] = [];
    function newBus(prefix: string, logger?: Logger): RedisBus {
      const bus = new RedisBus({ url: TEST_REDIS_URL, prefix, logger });
      buses.push(bus);
      return bus;
    }
    afterEach(async () => {
      await Promise.all(buses.splice(0).map((b) => b.dispose()));
    });

    it('holds one Redis subscription per channel and really unsubscribes after the last handler leaves', async () => {
      const prefix = freshRedisPrefix('bus');
      const bus = newBus(prefix);
      const unsubscribeA = await bus.subscribe('loans', () => undefined);
      const unsubscribeB = await bus.subscribe('loans', () => undefined);
      expect(await numsub(`${prefix}:loans`)).toBe(1);
      await unsubscribeA();
      expect(await numsub(`${prefix}:loans`)).toBe(1);
      await unsubscribeB();
      expect(await numsub(`${prefix}:loans`)).toBe(0);
    });

    it('does not double the separator when the prefix already ends with ":"', async () => {
      const prefix = `${freshRedisPrefix('bus')}:`;
      const bus = newBus(prefix);
      await bus.subscribe('loans', () => undefined);
      expect(await numsub(`${prefix}loans`)).toBe(1);
    });

    it('closes both connections on dispose()', async () => {
      const prefix = freshRedisPrefix('bus');
      const bus = newBus(prefix);
      await bus.subscribe('loans', () => undefined);
      await bus.ping();
      expect((await clientNames()).filter((n) => n.startsWith(prefix)).sort()).toEqual([`${prefix}:pub`, `${prefix}:sub`]);
      await bus.dispose();
      await eventually(async () => (await clientNames()).every((n) => !n.startsWith(prefix)), 5000, 'Redis to drop the bus connections');
      expect(await numsub(`${prefix}:loans`)).toBe(0);
      await expect(bus.ping()).rejects.toThrow();
    });

    it('fails ping() when Redis does not answer', async () => {
      // Port 1 on loopback: nothing listens there, so every connection attempt is refused at once.
      const bus = newBus(freshRedisPrefix('unreachable'));
      const unreachable = new RedisBus({ url: 'redis://127.0.0.1:1', prefix: freshRedisPrefix('down') });
      buses.push(unreachable);
      await expect(bus.ping()).resolves.toBeUndefined();
      await expect(unreachable.ping()).rejects.toThrow();
    });

    it('refuses an empty, blank or spaced prefix', () => {
      expect(() => new RedisBus({ url: TEST_REDIS_URL, prefix: '' })).toThrow(/non-empty channel prefix/);
      expect(() => new RedisBus({ url: TEST_REDIS_URL, prefix: '   ' })).toThrow(/non-empty channel prefix/);
      expect(() => new RedisBus({ url: TEST_REDIS_URL, prefix: 'my app' })).toThrow(/whitespace/);
    });

    it('keeps buses with different prefixes apart', async () => {
      const a = newBus(freshRedisPrefix('bus-a'));
      const b = newBus(freshRedisPrefix('bus-b'));
      const seenByA = recorder();
      const seenByB = recorder();
      await a.subscribe('loans', seenByA.handler);
      await b.subscribe('loans', seenByB.handler);
      await a.publish('loans', 'from a');
      await b.publish('loans', 'from b');
      await a.publish('loans', 'a again');
      await eventually(() => seenByA.received.length === 2 && seenByB.received.length === 1, 5000, 'each bus its own messages');
      expect(seenByA.received).toEqual(['from a', 'a again']);
      expect(seenByB.received).toEqual(['from b']);
    });

    it('connects buses that share a prefix (one per service process)', async () => {
      const prefix = freshRedisPrefix('bus');
      const loansService = newBus(prefix);
      const notificationsService = newBus(prefix);
      const { received, handler } = recorder();
      await notificationsService.subscribe('loan.due', handler);
      await loansService.publish('loan.due', { loanId: 'l-1' });
      await eventually(() => received.length === 1, 5000, 'the other process to receive it');
      expect(received).toEqual([{ loanId: 'l-1' }]);
    });

    it('drops a message that is not JSON and keeps delivering', async () => {
      const prefix = freshRedisPrefix('bus');
      const log = capturingLogger();
      const bus = newBus(prefix, log.logger);
      const { received, handler } = recorder();
      await bus.subscribe('loans', handler);
      await admin.publish(`${prefix}:loans`, 'not json {');
      await bus.publish('loans', 'valid');
      await eventually(() => received.length === 1, 5000, 'the valid message');
      expect(received).toEqual(['valid']);
      expect(log.lines.some((l) => l.msg === 'dropped a bus message that is not JSON')).toBe(true);
    });
  });
});

/** One transport seen by two processes (Redis: two buses on one prefix; in memory: the same bus twice). */
interface StreamHarness {
  bus: EventBus;
  peer: EventBus;
  /** Entries delivered to `group` and not acknowledged, as the transport sees it. */
  pending(stream: string, group: string): Promise<number>;
  /** Entries the stream holds. */
  length(stream: string): Promise<number>;
  dispose(): Promise<void>;
}

type StreamFactory = (logger: Logger, options?: { streamMaxLength?: number }) => Promise<StreamHarness>;

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Durable streams: what every EventBus must do with append/consume. */
function streamContract(name: string, factory: StreamFactory) {
  describe(`EventBus streams: ${name}`, () => {
    let h: StreamHarness;
    let log: ReturnType<typeof capturingLogger>;
    const stops: (() => Promise<void>)[] = [];

    beforeEach(async () => {
      log = capturingLogger();
      h = await factory(log.logger);
    });
    afterEach(async () => {
      await Promise.all(stops.splice(0).map((stop) => stop()));
      await h.dispose();
    });

    async function consumeInto(bus: EventBus, stream: string, group: string, consumer: string, options = {}) {
      const received: unknown[] = [];
      const stop = await bus.consume(stream, group, consumer, (m) => void received.push(m), { blockMs: 200, ...options });
      stops.push(stop);
      return { received, stop };
    }

    it('appends JSON values and delivers them in order, also those appended before the group existed', async () => {
      const first = await h.bus.append('orders', { n: 1, at: new Date('2026-11-23T10:00:00.000Z'), gone: undefined });
      expect(typeof first).toBe('string');
      const { received } = await consumeInto(h.bus, 'orders', 'g', 'c1');
      await h.bus.append('orders', { n: 2 });
      await h.bus.append('orders', 'three');
      await eventually(() => received.length === 3, 5000, 'three entries');
      expect(received).toEqual([{ n: 1, at: '2026-11-23T10:00:00.000Z' }, { n: 2 }, 'three']);
      await eventually(async () => (await h.pending('orders', 'g')) === 0, 5000, 'every entry acknowledged');
    });

    it('refuses values JSON cannot carry', async () => {
      await expect(h.bus.append('orders', undefined)).rejects.toThrow(/JSON/);
      expect(await h.length('orders')).toBe(0);
    });

    it('shares one group’s entries between its consumers: each entry handled once', async () => {
      const seen = new Map<string, number[]>([
        ['a', []],
        ['b', []],
      ]);
      for (const [who, bus] of [
        ['a', h.bus],
        ['b', h.peer],
      ] as const) {
        stops.push(
          await bus.consume(
            'jobs',
            'workers',
            who,
            async (m) => {
              seen.get(who)!.push((m as { n: number }).n);
              await tick(10);
            },
            { concurrency: 2, blockMs: 200 },
          ),
        );
      }
      for (let n = 0; n < 40; n += 1) await h.bus.append('jobs', { n });
      await eventually(() => seen.get('a')!.length + seen.get('b')!.length >= 40, 10_000, 'all forty entries');
      await tick(300);
      const all = [...seen.get('a')!, ...seen.get('b')!].sort((x, y) => x - y);
      expect(all).toEqual(Array.from({ length: 40 }, (_, n) => n));
      expect(seen.get('a')!.length).toBeGreaterThan(0);
      expect(seen.get('b')!.length).toBeGreaterThan(0);
      await eventually(async () => (await h.pending('jobs', 'workers')) === 0, 5000, 'all acknowledged');
    });

    it('gives every entry to every group', async () => {
      const one = await consumeInto(h.bus, 'events', 'inbox', 'x');
      const two = await consumeInto(h.peer, 'events', 'audit', 'y');
      for (let n = 0; n < 5; n += 1) await h.peer.append('events', n);
      await eventually(() => one.received.length === 5 && two.received.length === 5, 5000, 'both groups');
      expect(one.received).toEqual([0, 1, 2, 3, 4]);
      expect(two.received).toEqual([0, 1, 2, 3, 4]);
    });

    it('redelivers an entry its consumer did not acknowledge to another consumer once it has been idle long enough', async () => {
      const failing = await h.bus.consume(
        'fines',
        'notify',
        'crashing',
        () => {
          throw new Error('database down');
        },
        { blockMs: 100, claimIdleMs: 60_000 },
      );
      await h.bus.append('fines', { fineId: 'f-1' });
      await eventually(async () => (await h.pending('fines', 'notify')) === 1, 5000, 'the entry delivered and left pending');
      await failing.settled();
      await failing();
      expect(log.lines.some((l) => l.msg.includes('stream handler failed'))).toBe(true);
      const received: unknown[] = [];
      stops.push(await h.peer.consume('fines', 'notify', 'healthy', (m) => void received.push(m), { blockMs: 100, claimIdleMs: 300 }));
      await eventually(() => received.length === 1, 5000, 'the redelivery');
      expect(received).toEqual([{ fineId: 'f-1' }]);
      await eventually(async () => (await h.pending('fines', 'notify')) === 0, 5000, 'acknowledged after the redelivery');
    });

    it('runs at most `concurrency` handlers at once and waits for them when stopped', async () => {
      let running = 0;
      let most = 0;
      let done = 0;
      const stop = await h.bus.consume(
        'burst',
        'g',
        'c',
        async () => {
          running += 1;
          most = Math.max(most, running);
          await tick(15);
          running -= 1;
          done += 1;
        },
        { concurrency: 3, blockMs: 100 },
      );
      for (let n = 0; n < 12; n += 1) await h.bus.append('burst', n);
      await eventually(() => done >= 4, 5000, 'some handled');
      await stop();
      expect(running).toBe(0);
      expect(most).toBeLessThanOrEqual(3);
      expect(most).toBeGreaterThan(1);
      // What the stopped consumer had not read stays in the stream for the group.
      const rest = await consumeInto(h.bus, 'burst', 'g', 'c2');
      await eventually(() => done + rest.received.length === 12, 5000, 'the rest, by another consumer');
    });

    it('reads nothing after stop() and leaves nothing pending', async () => {
      const { received, stop } = await consumeInto(h.bus, 'quiet', 'g', 'c');
      await h.bus.append('quiet', 1);
      await eventually(() => received.length === 1, 5000, 'the first entry');
      await stop.settled();
      await stop();
      await h.bus.append('quiet', 2);
      await tick(300);
      expect(received).toEqual([1]);
      expect(await h.pending('quiet', 'g')).toBe(0);
      const next = await consumeInto(h.peer, 'quiet', 'g', 'd');
      await eventually(() => next.received.length === 1, 5000, 'the entry appended after stop, by the next consumer');
      expect(next.received).toEqual([2]);
    });

    it('settled() resolves once the consumer has caught up', async () => {
      const handled: number[] = [];
      const stop = await h.bus.consume(
        'catchup',
        'g',
        'c',
        async (m) => {
          await tick(5);
          handled.push(m as number);
        },
        { concurrency: 2, blockMs: 5_000 },
      );
      stops.push(stop);
      for (let n = 0; n < 6; n += 1) await h.bus.append('catchup', n);
      await eventually(() => handled.length > 0, 5000, 'a start');
      await stop.settled();
      expect(handled.sort()).toEqual([0, 1, 2, 3, 4, 5]);
    });
  });
}

streamContract('InMemoryBus', async (logger, options) => {
  const bus = new InMemoryBus(logger, options);
  return {
    bus,
    peer: bus,
    pending: async (stream, group) => bus.pendingCount(stream, group),
    length: async (stream) => bus.streamLength(stream),
    dispose: () => bus.dispose(),
  };
});

describe('InMemoryBus streams', () => {
  it('keeps the last streamMaxLength entries and stops its consumers on dispose()', async () => {
    const bus = new InMemoryBus(undefined, { streamMaxLength: 10 });
    for (let n = 0; n < 25; n += 1) await bus.append('s', n);
    expect(bus.streamLength('s')).toBe(10);
    const received: unknown[] = [];
    await bus.consume('s', 'g', 'c', (m) => void received.push(m));
    await eventually(() => received.length === 10, 5000, 'the ten kept');
    expect(received).toEqual([15, 16, 17, 18, 19, 20, 21, 22, 23, 24]);
    expect(bus.activeConsumers).toBe(1);
    await bus.dispose();
    expect(bus.activeConsumers).toBe(0);
    await expect(bus.append('s', 1)).rejects.toThrow(/disposed/);
  });
});

describeRedis('RedisBus streams against Redis', () => {
  let admin: Redis;
  beforeAll(() => {
    admin = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    await admin.quit();
  });

  streamContract('RedisBus', async (logger, options) => {
    const prefix = freshRedisPrefix('stream');
    const bus = new RedisBus({ url: TEST_REDIS_URL, prefix, logger, ...options });
    const peer = new RedisBus({ url: TEST_REDIS_URL, prefix, logger, ...options });
    return {
      bus,
      peer,
      pending: async (stream, group) => {
        const exists = await admin.exists(`${prefix}:${stream}`);
        if (!exists) return 0;
        const summary = (await admin.xpending(`${prefix}:${stream}`, group)) as [number, ...unknown[]];
        return Number(summary[0]);
      },
      length: async (stream) => admin.xlen(`${prefix}:${stream}`),
      dispose: async () => {
        await Promise.all([bus.dispose(), peer.dispose()]);
        const keys = await admin.keys(`${prefix}:*`);
        if (keys.length > 0) await admin.del(...keys);
      },
    };
  });

  it('trims each stream approximately to streamMaxLength (XADD MAXLEN ~)', async () => {
    const prefix = freshRedisPrefix('stream');
    const bus = new RedisBus({ url: TEST_REDIS_URL, prefix, streamMaxLength: 50 });
    try {
      for (let n = 0; n < 1_000; n += 1) await bus.append('s', n);
      const length = await admin.xlen(`${prefix}:s`);
      expect(length).toBeGreaterThanOrEqual(50);
      expect(length).toBeLessThan(1_000);
    } finally {
      await bus.dispose();
      await admin.del(`${prefix}:s`);
    }
  });

  it('reclaims what a crashed consumer read and never acknowledged, and removes a stopped consumer from the group', async () => {
    const prefix = freshRedisPrefix('stream');
    const key = `${prefix}:events`;
    const bus = new RedisBus({ url: TEST_REDIS_URL, prefix });
    try {
      await bus.append('events', { id: 'e-1' });
      await admin.xgroup('CREATE', key, 'notify', '0');
      // A process that read the entry and died before XACK.
      await admin.xreadgroup('GROUP', 'notify', 'ghost', 'COUNT', 10, 'STREAMS', key, '>');
      const received: unknown[] = [];
      const stop = await bus.consume('events', 'notify', 'survivor', (m) => void received.push(m), { blockMs: 100, claimIdleMs: 300 });
      await eventually(() => received.length === 1, 5000, 'the crashed consumer’s entry');
      expect(received).toEqual([{ id: 'e-1' }]);
      await eventually(async () => Number(((await admin.xpending(key, 'notify')) as [number])[0]) === 0, 5000, 'acknowledged');
      await stop();
      const consumers = (await admin.xinfo('CONSUMERS', key, 'notify')) as unknown[][];
      const names = consumers.map((c) => c[1]);
      expect(names).toContain('ghost');
      expect(names).not.toContain('survivor');
      const list = (await admin.client('LIST')) as string;
      expect(list).not.toContain(`${prefix}:stream:survivor`);
    } finally {
      await bus.dispose();
      await admin.del(key);
    }
  });
});

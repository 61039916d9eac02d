/**
 * Subscriptions over Redis pub/sub (needs Redis at TEST_REDIS_URL): two routers on one Redis each hold
 * one subscription to the channel and push an event published by another process; when Redis drops a
 * router's subscriber connection, ioredis reconnects and resubscribes by itself and the WebSocket stays
 * open; and the Redis subscription is gone once the last subscriber leaves.
 */
import { start as startBooks, type BooksHandle } from '@shelfwise/books';
import { BOOK_AVAILABILITY_CHANNEL, RedisBus, type BookAvailabilityEvent } from '@shelfwise/kit';
import { eventually, freshRedisPrefix, hasRedis, TEST_REDIS_URL } from '@shelfwise/testkit';
import { Redis } from 'ioredis';
import { startRouter, type RouterHandle } from '../src/server.js';
import { connect, subscribe, type Connection } from './subscriptions.helpers.js';

const redisOk = await hasRedis();
const describeRedis = redisOk ? describe : describe.skip;

const QUERY = `
  subscription ($ids: [ID!]!) {
    bookAvailabilityChanged(bookIds: $ids) { availableCopies book { title } }
  }
`;

interface Availability {
  bookAvailabilityChanged: { availableCopies: number; book: { title: string } | null };
}

describeRedis('subscriptions over Redis', () => {
  const prefix = freshRedisPrefix('subscriptions');
  let books: BooksHandle;
  let bookId: string;
  const buses: RedisBus[] = [];
  let publisher: RedisBus;
  let routerA: RouterHandle;
  let routerB: RouterHandle;
  let admin: Redis;
  const open: Connection[] = [];

  const event = (availableCopies: number): BookAvailabilityEvent => ({
    bookId,
    availableCopies,
    totalCopies: 3,
    at: new Date().toISOString(),
  });

  const startOne = async () => {
    const bus = new RedisBus({ url: TEST_REDIS_URL, prefix });
    buses.push(bus);
    return startRouter({ port: 0, host: '127.0.0.1', subgraphUrls: { books: books.url }, bus });
  };

  beforeAll(async () => {
    books = await startBooks({ port: 0 });
    bookId = (await books.books.create({ isbn: '9780000003001', title: 'Middlemarch', authors: ['George Eliot'], copies: 3 })).id;
    // Another process (books, in production) publishing on the same Redis.
    publisher = new RedisBus({ url: TEST_REDIS_URL, prefix });
    buses.push(publisher);
    routerA = await startOne();
    routerB = await startOne();
    admin = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    await Promise.all(open.map((c) => c.dispose()));
    await routerA?.stop();
    await routerB?.stop();
    await Promise.all(buses.map((bus) => bus.dispose()));
    await books?.stop();
    await admin?.quit();
  });

  const channel = `${prefix}:${BOOK_AVAILABILITY_CHANNEL}`;
  const redisSubscribers = async () => ((await admin.pubsub('NUMSUB', channel)) as [string, number])[1];

  it('pushes an event published by another process to subscribers on two routers, one Redis subscription each', async () => {
    const first = connect(routerA.url);
    open.push(first);
    const onA = subscribe<Availability>(first, QUERY, { ids: [bookId] });
    const onB = [0, 1, 2].map(() => {
      const connection = connect(routerB.url);
      open.push(connection);
      return subscribe<Availability>(connection, QUERY, { ids: [bookId] });
    });
    await eventually(() => routerA.subscriptionStats().subscribers === 1 && routerB.subscriptionStats().subscribers === 3);
    expect(await redisSubscribers()).toBe(2);

    await publisher.publish(BOOK_AVAILABILITY_CHANNEL, event(2));
    await eventually(() => onA.results.length === 1 && onB.every((s) => s.results.length === 1));
    for (const s of [onA, ...onB]) {
      expect(s.results[0]).toEqual({ data: { bookAvailabilityChanged: { availableCopies: 2, book: { title: 'Middlemarch' } } } });
    }
    expect(routerB.subscriptionStats().gatewayExecutions).toBe(1);

    onA.unsubscribe();
    await eventually(async () => routerA.subscriptionStats().busSubscriptions === 0 && (await redisSubscribers()) === 1);
  });

  it('keeps sockets open while Redis drops the router’s connection, and pushes again once ioredis resubscribed', async () => {
    const connection = connect(routerA.url);
    open.push(connection);
    const watch = subscribe<Availability>(connection, QUERY, { ids: [bookId] });
    await eventually(() => routerA.subscriptionStats().subscribers === 1);
    await eventually(async () => (await redisSubscribers()) === 2);

    // Kill every subscriber connection under this prefix (both routers' and the publisher's), as a Redis
    // restart would.
    const clients = (await admin.client('LIST')) as string;
    const ids = clients
      .split('\n')
      .filter((line) => line.includes(`name=${prefix}:sub`))
      .map((line) => /\bid=(\d+)/.exec(line)?.[1]);
    expect(ids.length).toBe(3); // router A, router B, the publisher
    const before = (await admin.pubsub('NUMSUB', channel)) as [string, number];
    for (const id of ids) await admin.client('KILL', 'ID', id!);
    expect(before[1]).toBe(2);

    // Pub/sub is at-most-once: events published while the connection is down are lost, so publish
    // until one arrives (clients refetch after a reconnect; see docs/api.md).
    let copies = 0;
    await eventually(
      async () => {
        if (watch.results.length > 0) return true;
        copies += 1;
        await publisher.publish(BOOK_AVAILABILITY_CHANNEL, event(copies % 3));
        return false;
      },
      10_000,
      'an event after Redis dropped the connection',
    );
    expect(watch.results.at(-1)?.data?.bookAvailabilityChanged.book).toEqual({ title: 'Middlemarch' });
    expect(connection.closes).toEqual([]);
    expect(watch.error).toBeUndefined();
    expect(routerA.subscriptionStats().busSubscriptions).toBe(1);
  });

  it('leaves no Redis subscription behind once every subscriber has gone', async () => {
    await Promise.all(open.splice(0).map((c) => c.dispose()));
    await eventually(() => routerA.subscriptionStats().connections === 0 && routerB.subscriptionStats().connections === 0);
    await eventually(async () => (await redisSubscribers()) === 0);
    for (const router of [routerA, routerB]) {
      expect(router.subscriptionStats()).toMatchObject({ subscribers: 0, groups: 0, busSubscriptions: 0 });
    }
  });
});

/**
 * Shared pieces of the live-update tests through the router (live.test.ts on PGlite and the in-process
 * bus, live.redis.test.ts on Redis, live.postgres.test.ts on Postgres and Redis): graphql-ws sockets
 * signed in as a person, waiting for frames, the inbox, reviews and fines through the public graph, the
 * test clock, and a second router on the same subgraphs and bus (scale-out).
 */
import { RedisBus, type EventBus } from '@shelfwise/kit';
import { eventually, graphql } from '@shelfwise/testkit';
import type { FormattedExecutionResult } from 'graphql';
import type { Platform } from '../src/platform.js';
import { startRouter, type RouterHandle, type RouterOptions } from '../src/server.js';
import { Holds } from './holdsKit.js';
import type { Person } from './circulationKit.js';
import { connect, subscribe, type Connection, type Subscription } from './subscriptions.helpers.js';

/** Seconds in a day, for the test clock. */
export const DAY = 86_400;

/** A book's live availability with fields from books, reviews and reservations. */
export const AVAILABILITY = `
  subscription Watch($ids: [ID!]!) {
    bookAvailabilityChanged(bookIds: $ids) {
      bookId
      availableCopies
      totalCopies
      book { title averageRating reviewCount holdQueueLength }
    }
  }
`;

export interface Availability {
  bookAvailabilityChanged: {
    bookId: string;
    availableCopies: number;
    totalCopies: number;
    book: { title: string; averageRating: number | null; reviewCount: number; holdQueueLength: number } | null;
  };
}

/** The signed-in user's notifications as they arrive, with the loan, book and hold they are about. */
export const RECEIVED = `
  subscription {
    notificationReceived { id kind message loan { id } book { title } reservation { id status } }
  }
`;

export interface ReceivedNotification {
  id: string;
  kind: string;
  message: string;
  loan: { id: string } | null;
  book: { title: string } | null;
  reservation: { id: string; status: string } | null;
}

export interface Received {
  notificationReceived: ReceivedNotification;
}

export interface InboxEntry extends ReceivedNotification {
  readAt: string | null;
}

export interface Inbox {
  unreadNotificationCount: number;
  notifications: { totalCount: number; edges: { node: InboxEntry }[] };
}

/**
 * Waits until `subscription` has received at least `count` frames (bounded), then returns them all.
 * Fails early with the subscription's error when the server refused or closed it.
 */
export async function frames<T>(
  subscription: Subscription<T>,
  count: number,
  what: string,
  timeoutMs = 15_000,
): Promise<FormattedExecutionResult<T>[]> {
  await eventually(
    () => {
      if (subscription.error !== undefined) throw new Error(`${what}: the subscription ended with ${JSON.stringify(subscription.error)}`);
      return subscription.results.length >= count;
    },
    timeoutMs,
    what,
  );
  return subscription.results;
}

/** The notifications a subscription received, in order (fails on a frame with errors or without data). */
export function received(subscription: Subscription<Received>): ReceivedNotification[] {
  return subscription.results.map((result) => {
    if (result.errors || !result.data) throw new Error(`unexpected frame ${JSON.stringify(result)}`);
    return result.data.notificationReceived;
  });
}

/** People, books, holds and circulation (Holds), plus what the live tests do through the public graph. */
export class Live extends Holds {
  /** Every socket opened through {@link connectAs}, closed by {@link closeSockets}. */
  readonly sockets: Connection[] = [];

  /** A book's title, from books' own database. */
  async titleOf(bookId: string): Promise<string> {
    return (await this.platform.subgraphs.books.database.prisma.book.findUniqueOrThrow({ where: { id: bookId } })).title;
  }

  /** A graphql-ws connection to `routerUrl` (the platform's router by default), signed in as `who` (null: anonymous). */
  async connectAs(who: Person | null, routerUrl = this.url): Promise<Connection> {
    const token = who ? (await this.as(who)).authorization!.replace(/^Bearer /, '') : undefined;
    const connection = connect(routerUrl, token);
    this.sockets.push(connection);
    return connection;
  }

  /** `who`'s subscription to `notificationReceived` on `routerUrl`. */
  async watchNotifications(who: Person, routerUrl = this.url): Promise<Subscription<Received>> {
    return subscribe<Received>(await this.connectAs(who, routerUrl), RECEIVED);
  }

  /** A subscription to `bookAvailabilityChanged` for `bookIds` on `routerUrl`, as `who` (null: anonymous). */
  async watchAvailability(who: Person | null, bookIds: string[], routerUrl = this.url): Promise<Subscription<Availability>> {
    return subscribe<Availability>(await this.connectAs(who, routerUrl), AVAILABILITY, { ids: bookIds });
  }

  async closeSockets(): Promise<void> {
    await Promise.all(this.sockets.splice(0).map((connection) => connection.dispose()));
  }

  /** `who`'s inbox (newest first) and unread count, through the router. */
  async inbox(who: Person): Promise<Inbox> {
    const res = await this.call<{ me: Inbox }>(
      who,
      `{ me { unreadNotificationCount notifications(first: 100) { totalCount edges { node {
          id kind message readAt loan { id } book { title } reservation { id status } } } } } }`,
    );
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data!.me;
  }

  /** markNotificationsRead as `who`; answers how many were marked now. */
  async markRead(who: Person, ids: string[]): Promise<number> {
    const res = await this.call<{ markNotificationsRead: number }>(who, 'mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }', {
      ids,
    });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data!.markNotificationsRead;
  }

  async writeReview(who: Person, bookId: string, rating: number): Promise<void> {
    const res = await this.call(who, 'mutation($input: WriteReviewInput!) { writeReview(input: $input) { id } }', {
      input: { bookId, rating, body: `${rating} stars.` },
    });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
  }

  /** A librarian's fine for `patron`, through `routerUrl`; answers the fine's id. */
  async assessFine(librarian: Person, patron: Person, amountCents: number, routerUrl = this.url): Promise<string> {
    const res = await this.callAt<{ assessFine: { id: string } }>(
      routerUrl,
      librarian,
      'mutation($input: AssessFineInput!) { assessFine(input: $input) { id } }',
      { input: { userId: patron.id, amountCents, reason: 'DAMAGED', note: 'Coffee on the pages.' } },
    );
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data!.assessFine.id;
  }

  /** Moves every service's clock with the public `advanceClock` mutation (an admin's). */
  async advanceClock(admin: Person, seconds: number): Promise<string> {
    const res = await this.call<{ advanceClock: string }>(admin, 'mutation($s: Int!) { advanceClock(seconds: $s) }', { s: seconds });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data!.advanceClock;
  }

  /** One operation as `who` through a router other than the platform's own (scale-out). */
  async callAt<T>(routerUrl: string, who: Person | null, query: string, variables: Record<string, unknown> = {}) {
    return graphql<T>(routerUrl, query, variables, who ? await this.as(who) : {});
  }
}

/**
 * Another router in front of the platform's subgraphs, as a second replica behind a load balancer: the
 * same identity services and clock, its own bus (a RedisBus on the platform's prefix, so both routers
 * hear every event), rate limits off as in the other tests. Stop it before the platform.
 */
export async function startAnotherRouter(platform: Platform, bus: EventBus, options: Omit<RouterOptions, 'subgraphUrls'> = {}) {
  const { auth, clock, subgraphs } = platform;
  const router: RouterHandle = await startRouter({
    port: 0,
    host: '127.0.0.1',
    redisPing: bus instanceof RedisBus ? () => bus.ping() : undefined,
    auth: { keys: auth.keys, sessions: auth.sessions, clock },
    rateLimit: { clock, ipPerMinute: 0, userPerMinute: 0 },
    bus,
    ...options,
    subgraphUrls: Object.fromEntries(Object.entries(subgraphs).map(([name, handle]) => [name, handle.url])),
  });
  return router;
}

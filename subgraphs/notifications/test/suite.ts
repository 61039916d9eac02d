import { randomUUID } from 'node:crypto';
import { encodeCursor, callerCredential, ServiceClock, CALLER_HEADER, type Role, type ServiceOptions } from '@shelfwise/kit';
import { graphql, type GraphQLResponse } from '@shelfwise/testkit';
import { start, type NotificationsHandle } from '../src/server.js';
import type { NotificationModel } from '../src/mappers.js';

interface NotificationNode {
  id: string;
  kind: string;
  message: string;
  createdAt: string;
  readAt: string | null;
  book: { id: string } | null;
  loan: { id: string } | null;
  reservation: { id: string } | null;
}
interface Page {
  totalCount: number;
  edges: { cursor: string; node: NotificationNode }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}
interface PreferencesNode {
  dueSoon: boolean;
  overdue: boolean;
  reservationReady: boolean;
  reservationExpired: boolean;
  fineAssessed: boolean;
  dueSoonDaysBefore: number;
}

const NODE_FIELDS = 'id kind message createdAt readAt book { id } loan { id } reservation { id }';
const PAGE_FIELDS = `totalCount edges { cursor node { ${NODE_FIELDS} } } pageInfo { hasNextPage endCursor }`;
const PREFERENCE_FIELDS = 'dueSoon overdue reservationReady reservationExpired fineAssessed dueSoonDaysBefore';
const DEFAULTS: PreferencesNode = {
  dueSoon: true,
  overdue: true,
  reservationReady: true,
  reservationExpired: true,
  fineAssessed: true,
  dueSoonDaysBefore: 2,
};

/** A test clock that stands still until moved, so several notifications can share one timestamp. */
class FrozenClock extends ServiceClock {
  private at = Date.parse('2026-11-23T10:00:00.000Z');

  constructor() {
    super(true);
  }

  override now(): Date {
    return new Date(this.at);
  }

  override advance(seconds: number): Date {
    this.at += seconds * 1000;
    return this.now();
  }
}

/** Newest first, ties on the timestamp broken by id (descending), as the service orders them. */
const newestFirst = (a: NotificationModel, b: NotificationModel) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1);

/**
 * The notifications subgraph's behaviour, run once on PGlite (notifications.test.ts) and once on real
 * Postgres (notifications.postgres.test.ts) so the SQL is proven on both.
 */
export function describeNotificationsSubgraph(
  title: string,
  describeFn: jest.Describe,
  options: () => ServiceOptions,
  cleanup?: () => Promise<void>,
): void {
  describeFn(title, () => {
    const clock = new FrozenClock();
    let service: NotificationsHandle;
    const alice = randomUUID();
    const bob = randomUUID();
    const librarian = randomUUID();
    const crowd = Array.from({ length: 50 }, () => randomUUID());
    const book = randomUUID();
    const loan = randomUUID();
    const reservation = randomUUID();
    let inbox: NotificationModel[]; // alice's six, newest first
    let unread: NotificationModel[]; // the four she has not read, newest first

    const as = (userId: string, role: Role = 'PATRON') => ({ [CALLER_HEADER]: callerCredential({ userId, role }) });
    const staff = () => as(librarian, 'LIBRARIAN');
    const query = <T>(
      q: string,
      variables: Record<string, unknown> = {},
      headers: Record<string, string> = {},
    ): Promise<GraphQLResponse<T>> => graphql<T>(service.url, q, variables, headers);
    const users = <T>(
      ids: string[],
      fields: string,
      headers: Record<string, string> = {},
      variables: Record<string, unknown> = {},
      params = '',
    ) =>
      query<{ _entities: (T | null)[] }>(
        `query($reps: [_Any!]! ${params}) { _entities(representations: $reps) { ... on User { ${fields} } } }`,
        { reps: ids.map((id) => ({ __typename: 'User', id })), ...variables },
        headers,
      );
    const page = (userId: string, args: { first?: number; after?: string | null; unreadOnly?: boolean }, headers: Record<string, string>) =>
      users<{ notifications: Page }>(
        [userId],
        `notifications(first: $first, after: $after, unreadOnly: $unreadOnly) { ${PAGE_FIELDS} }`,
        headers,
        { first: args.first ?? null, after: args.after ?? null, unreadOnly: args.unreadOnly ?? null },
        ', $first: Int, $after: String, $unreadOnly: Boolean',
      );
    const statements = () => service.database.db.stats.statements;
    const codes = (res: GraphQLResponse<unknown>) => (res.errors ?? []).map((e) => e.extensions?.code);

    beforeAll(async () => {
      service = await start({ ...options(), clock });
      const created: NotificationModel[] = [];
      const add = async (
        kind: NotificationModel['kind'],
        message: string,
        refs: { bookId?: string; loanId?: string; reservationId?: string } = {},
      ) => created.push(await service.notifications.create({ userId: alice, kind, message, ...refs }));
      await add('DUE_SOON', 'Dune is due in 2 days.', { bookId: book, loanId: loan });
      clock.advance(60);
      await add('OVERDUE', 'Dune is overdue.', { bookId: book, loanId: loan });
      clock.advance(60);
      // Three at the same instant: the id orders them.
      await add('RESERVATION_READY', 'Emma is waiting for you at the desk.', { bookId: book, reservationId: reservation });
      await add('RESERVATION_EXPIRED', 'Your hold on Emma expired.', { reservationId: reservation });
      await add('FINE_ASSESSED', 'A fine of $1.50 was added to your account.');
      clock.advance(60);
      await add('DUE_SOON', 'Beloved is due tomorrow.');
      const read = [created[1]!, created[3]!];
      expect(
        await service.notifications.markRead(
          alice,
          read.map((n) => n.id),
        ),
      ).toBe(2);
      inbox = [...created].sort(newestFirst);
      unread = inbox.filter((n) => !read.includes(n));
      await service.notifications.create({ userId: bob, kind: 'OVERDUE', message: 'Emma is overdue.' });
      for (const [i, userId] of crowd.entries()) {
        for (let j = 0; j < i % 3; j += 1) await service.notifications.create({ userId, kind: 'DUE_SOON', message: `Reminder ${j}` });
      }
    });
    afterAll(async () => {
      await service?.stop();
      await cleanup?.();
    });

    describe('authorization', () => {
      const allFields = `id unreadNotificationCount notificationPreferences { dueSoon } notifications { totalCount }`;

      it('refuses an anonymous caller with UNAUTHENTICATED', async () => {
        const res = await users([alice], allFields, {});
        expect(res.data?._entities[0]).toBeNull();
        expect(new Set(codes(res))).toEqual(new Set(['UNAUTHENTICATED']));
      });

      it('refuses another patron, a librarian and an admin with FORBIDDEN, on every field (notifications are personal)', async () => {
        for (const headers of [as(bob), staff(), as(randomUUID(), 'ADMIN')]) {
          for (const field of ['unreadNotificationCount', 'notificationPreferences { dueSoon }', 'notifications { totalCount }']) {
            const res = await users([alice], `id ${field}`, headers);
            expect(res.data?._entities[0]).toBeNull();
            expect(codes(res)).toEqual(['FORBIDDEN']);
            expect(JSON.stringify(res.data)).not.toContain('Dune');
          }
        }
      });

      it('keeps the user reference public while refusing another patron the inbox under it', async () => {
        const mixed = await users<{ id: string; unreadNotificationCount: number }>([alice, bob], 'id unreadNotificationCount', as(bob));
        expect(mixed.data?._entities).toEqual([null, { id: bob, unreadNotificationCount: 1 }]);
        expect(codes(mixed)).toEqual(['FORBIDDEN']);
        expect(mixed.errors?.[0]?.path).toEqual(['_entities', 0, 'unreadNotificationCount']);

        // The reference itself is only an id: anyone may resolve it, as long as nothing personal is asked.
        const anonymous = await users<{ id: string }>([alice], 'id');
        expect(anonymous.errors).toBeUndefined();
        expect(anonymous.data?._entities).toEqual([{ id: alice }]);
      });

      it('lets the user themselves read their inbox, whatever their role', async () => {
        const res = await users<{ unreadNotificationCount: number; notifications: { totalCount: number } }>([alice], allFields, as(alice));
        expect(res.errors).toBeUndefined();
        expect(res.data?._entities[0]).toMatchObject({ unreadNotificationCount: 4, notifications: { totalCount: 6 } });
        const own = await users<{ notifications: { totalCount: number } }>([librarian], 'notifications { totalCount }', staff());
        expect(own.errors).toBeUndefined();
        expect(own.data?._entities[0]).toEqual({ notifications: { totalCount: 0 } });
      });
    });

    describe('User.notifications', () => {
      it('lists the inbox newest first with every field and its references', async () => {
        const res = await page(alice, {}, as(alice));
        expect(res.errors).toBeUndefined();
        const connection = res.data!._entities[0]!.notifications;
        expect(connection.totalCount).toBe(6);
        expect(connection.pageInfo.hasNextPage).toBe(false);
        expect(connection.edges.map((e) => e.node.id)).toEqual(inbox.map((n) => n.id));
        const ready = connection.edges.find((e) => e.node.kind === 'RESERVATION_READY')!.node;
        expect(ready).toEqual({
          id: ready.id,
          kind: 'RESERVATION_READY',
          message: 'Emma is waiting for you at the desk.',
          createdAt: '2026-11-23T10:02:00.000Z',
          readAt: null,
          book: { id: book },
          loan: null,
          reservation: { id: reservation },
        });
        const overdue = connection.edges.find((e) => e.node.kind === 'OVERDUE')!.node;
        expect(overdue).toMatchObject({ readAt: '2026-11-23T10:03:00.000Z', loan: { id: loan } });
      });

      it('pages through the inbox without repeats or gaps, also across equal timestamps', async () => {
        for (const first of [1, 2, 4]) {
          const seen: string[] = [];
          let after: string | null = null;
          do {
            const res = await page(alice, { first, after }, as(alice));
            expect(res.errors).toBeUndefined();
            const connection: Page = res.data!._entities[0]!.notifications;
            expect(connection.totalCount).toBe(6);
            expect(connection.edges.length).toBeLessThanOrEqual(first);
            seen.push(...connection.edges.map((e) => e.node.id));
            after = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null;
          } while (after);
          expect(seen).toEqual(inbox.map((n) => n.id));
        }
      });

      it('lists only unread notifications with unreadOnly, paged the same way', async () => {
        const seen: string[] = [];
        let after: string | null = null;
        do {
          const res = await page(alice, { first: 3, after, unreadOnly: true }, as(alice));
          expect(res.errors).toBeUndefined();
          const connection: Page = res.data!._entities[0]!.notifications;
          expect(connection.totalCount).toBe(4);
          expect(connection.edges.every((e) => e.node.readAt === null)).toBe(true);
          seen.push(...connection.edges.map((e) => e.node.id));
          after = connection.pageInfo.hasNextPage ? connection.pageInfo.endCursor : null;
        } while (after);
        expect(seen).toEqual(unread.map((n) => n.id));
        const all = await page(alice, { unreadOnly: false }, as(alice));
        expect(all.data?._entities[0]?.notifications.totalCount).toBe(6);
      });

      it('refuses a page size out of range and a cursor from another list', async () => {
        for (const first of [0, 101]) {
          const res = await page(alice, { first }, as(alice));
          expect(codes(res)).toEqual(['BAD_USER_INPUT']);
        }
        for (const after of [
          encodeCursor('loans', ['2026-11-23T10:00:00.000Z', randomUUID()]),
          encodeCursor('notifications', ['2026-11-23T10:00:00.000Z', 'x']),
          'garbage',
        ]) {
          const res = await page(alice, { after }, as(alice));
          expect(codes(res)).toEqual(['BAD_USER_INPUT']);
        }
      });

      it('shows an empty inbox for a user without notifications', async () => {
        const res = await page(librarian, {}, staff());
        expect(res.data?._entities[0]?.notifications).toEqual({
          totalCount: 0,
          edges: [],
          pageInfo: { hasNextPage: false, endCursor: null },
        });
      });
    });

    describe('User.unreadNotificationCount', () => {
      it('counts in one statement however many users an _entities batch names, and refusals cost none', async () => {
        type Counted = { id: string; unreadNotificationCount: number };
        let before = statements();
        const one = await users<Counted>([alice], 'id unreadNotificationCount', as(alice));
        const forOne = statements() - before;
        // The same user reached fifty times (a page of her reviews, say): one grouped query.
        before = statements();
        const repeated = await users<Counted>(Array<string>(50).fill(alice), 'id unreadNotificationCount', as(alice));
        const forRepeated = statements() - before;
        // Fifty others and herself: the others are refused before any query, hers costs the one.
        before = statements();
        const mixed = await users<Counted>([...crowd, alice], 'id unreadNotificationCount', as(alice));
        const forMixed = statements() - before;
        expect(one.errors).toBeUndefined();
        expect(repeated.errors).toBeUndefined();
        expect(one.data?._entities[0]?.unreadNotificationCount).toBe(4);
        expect(repeated.data?._entities.every((u) => u?.unreadNotificationCount === 4)).toBe(true);
        expect(mixed.data?._entities.slice(0, 50).every((u) => u === null)).toBe(true);
        expect(mixed.data?._entities[50]).toEqual({ id: alice, unreadNotificationCount: 4 });
        expect(new Set(codes(mixed))).toEqual(new Set(['FORBIDDEN']));
        expect([forOne, forRepeated, forMixed]).toEqual([1, 1, 1]);
      });

      it('counts fifty users’ unread notifications in one grouped statement (the loader behind the field)', async () => {
        const before = statements();
        const counts = await service.notifications.unreadCountLoader().loadMany([...crowd, alice, bob, 'not-a-uuid']);
        expect(statements() - before).toBe(1);
        expect(counts).toEqual([...crowd.map((_, i) => i % 3), 4, 1, 0]);
      });

      it('counts each user’s own notifications only', async () => {
        for (const [userId, expected] of [
          [alice, 4],
          [bob, 1],
        ] as const) {
          const res = await users<{ unreadNotificationCount: number }>([userId], 'unreadNotificationCount', as(userId));
          expect(res.data?._entities[0]?.unreadNotificationCount).toBe(expected);
        }
      });
    });

    describe('User.notificationPreferences', () => {
      it('gives the defaults to a user who never chose, and stored choices otherwise', async () => {
        const saved = await service.notifications.savePreferences(bob, { overdue: false, dueSoonDaysBefore: 5 });
        expect(saved).toEqual({ ...DEFAULTS, overdue: false, dueSoonDaysBefore: 5 });
        const prefs = (userId: string) =>
          users<{ notificationPreferences: PreferencesNode }>([userId], `notificationPreferences { ${PREFERENCE_FIELDS} }`, as(userId));
        const before = statements();
        const forAlice = await prefs(alice);
        expect(statements() - before).toBe(1);
        expect(forAlice.errors).toBeUndefined();
        expect(forAlice.data?._entities[0]?.notificationPreferences).toEqual(DEFAULTS);
        expect((await prefs(bob)).data?._entities[0]?.notificationPreferences).toEqual({
          ...DEFAULTS,
          overdue: false,
          dueSoonDaysBefore: 5,
        });
      });

      it('loads fifty users’ preferences in one statement (the loader behind the field)', async () => {
        const before = statements();
        const all = await service.notifications.preferencesLoader().loadMany([alice, bob, ...crowd]);
        expect(statements() - before).toBe(1);
        expect(all[1]).toEqual({ ...DEFAULTS, overdue: false, dueSoonDaysBefore: 5 });
        expect(all.filter((p, i) => i !== 1).every((p) => JSON.stringify(p) === JSON.stringify(DEFAULTS))).toBe(true);
      });

      it('keeps earlier choices when saving others, and refuses a reminder lead time outside 1–7 days', async () => {
        expect(await service.notifications.savePreferences(bob, { fineAssessed: false })).toEqual({
          ...DEFAULTS,
          overdue: false,
          fineAssessed: false,
          dueSoonDaysBefore: 5,
        });
        for (const dueSoonDaysBefore of [0, -1, 8, 15, 1.5]) {
          await expect(service.notifications.savePreferences(bob, { dueSoonDaysBefore })).rejects.toMatchObject({
            extensions: { code: 'BAD_USER_INPUT' },
          });
        }
        for (const dueSoonDaysBefore of [1, 7, 5]) {
          expect((await service.notifications.savePreferences(bob, { dueSoonDaysBefore })).dueSoonDaysBefore).toBe(dueSoonDaysBefore);
        }
      });
    });

    describe('Notification as an entity (the router resolves new notifications this way)', () => {
      const entities = (ids: string[], headers: Record<string, string>) =>
        query<{ _entities: (NotificationNode | null)[] }>(
          `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Notification { ${NODE_FIELDS} } } }`,
          { reps: ids.map((id) => ({ __typename: 'Notification', id })) },
          headers,
        );

      it('resolves the recipient’s own notifications, all in one statement', async () => {
        const before = statements();
        const res = await entities(
          inbox.map((n) => n.id),
          as(alice),
        );
        expect(statements() - before).toBe(1);
        expect(res.errors).toBeUndefined();
        expect(res.data?._entities.map((n) => n?.id)).toEqual(inbox.map((n) => n.id));
        expect(res.data?._entities.find((n) => n?.kind === 'RESERVATION_READY')).toMatchObject({
          message: 'Emma is waiting for you at the desk.',
          book: { id: book },
          reservation: { id: reservation },
        });
      });

      it('never resolves someone else’s notification: another patron, a librarian or an admin is refused', async () => {
        for (const headers of [as(bob), staff(), as(randomUUID(), 'ADMIN')]) {
          const res = await entities([inbox[0]!.id], headers);
          expect(res.data?._entities).toEqual([null]);
          expect(codes(res)).toEqual(['FORBIDDEN']);
          expect(JSON.stringify(res)).not.toContain('Beloved');
        }
      });

      it('refuses an anonymous caller before any lookup, and answers null for unknown ids', async () => {
        const before = statements();
        const anonymous = await entities([inbox[0]!.id], {});
        expect(statements() - before).toBe(0);
        expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
        const unknown = await entities([randomUUID(), 'not-a-uuid'], as(alice));
        expect(unknown.errors).toBeUndefined();
        expect(unknown.data?._entities).toEqual([null, null]);
      });
    });

    describe('Query.notification', () => {
      const one = (id: string, headers: Record<string, string>) =>
        query<{ notification: NotificationNode | null }>(`query($id: ID!) { notification(id: $id) { ${NODE_FIELDS} } }`, { id }, headers);

      it('answers the signed-in user’s own notification with every field', async () => {
        const ready = inbox.find((n) => n.kind === 'RESERVATION_READY')!;
        const res = await one(ready.id, as(alice));
        expect(res.errors).toBeUndefined();
        expect(res.data?.notification).toMatchObject({
          id: ready.id,
          kind: 'RESERVATION_READY',
          message: 'Emma is waiting for you at the desk.',
          book: { id: book },
          reservation: { id: reservation },
        });
      });

      it('answers null for someone else’s notification, as for an unknown id, to patrons and staff alike', async () => {
        for (const headers of [as(bob), staff(), as(randomUUID(), 'ADMIN')]) {
          for (const id of [inbox[0]!.id, randomUUID(), 'not-a-uuid']) {
            const res = await one(id, headers);
            expect(res.errors).toBeUndefined();
            expect(res.data?.notification).toBeNull();
          }
        }
        expect(codes(await one(inbox[0]!.id, {}))).toEqual(['UNAUTHENTICATED']);
      });
    });

    describe('Subscription.notificationReceived over HTTP', () => {
      it('says it is served by the router over graphql-ws', async () => {
        const res = await query('subscription { notificationReceived { id message } }', {}, as(alice));
        expect(codes(res)).toEqual(['BAD_USER_INPUT']);
        expect(res.errors?.[0]?.message).toMatch(/router over graphql-ws/);
        const anonymous = await query('subscription { notificationReceived { id } }');
        expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
      });
    });

    describe('Mutation.updateNotificationPreferences', () => {
      const update = (input: Record<string, unknown>, headers: Record<string, string>) =>
        query<{ updateNotificationPreferences: PreferencesNode }>(
          `mutation($input: NotificationPreferencesInput!) { updateNotificationPreferences(input: $input) { ${PREFERENCE_FIELDS} } }`,
          { input },
          headers,
        );
      const preferencesOf = async (userId: string) =>
        (
          await users<{ notificationPreferences: PreferencesNode }>(
            [userId],
            `notificationPreferences { ${PREFERENCE_FIELDS} }`,
            as(userId),
          )
        ).data?._entities[0]?.notificationPreferences;

      it('changes only the signed-in user’s preferences, only the ones given, and returns them all', async () => {
        const bobBefore = await preferencesOf(bob);
        const res = await update({ overdue: false, dueSoonDaysBefore: 3 }, as(alice));
        expect(res.errors).toBeUndefined();
        expect(res.data?.updateNotificationPreferences).toEqual({ ...DEFAULTS, overdue: false, dueSoonDaysBefore: 3 });
        expect(await preferencesOf(alice)).toEqual({ ...DEFAULTS, overdue: false, dueSoonDaysBefore: 3 });
        const again = await update({ reservationReady: false }, as(alice));
        expect(again.data?.updateNotificationPreferences).toEqual({
          ...DEFAULTS,
          overdue: false,
          reservationReady: false,
          dueSoonDaysBefore: 3,
        });
        expect(await preferencesOf(bob)).toEqual(bobBefore);
      });

      it('refuses a lead time outside 1–7 days, a null, or nothing to change, and changes nothing', async () => {
        const before = await preferencesOf(alice);
        for (const input of [
          { dueSoonDaysBefore: 0 },
          { dueSoonDaysBefore: 8, overdue: true },
          { dueSoonDaysBefore: -2 },
          { dueSoon: null },
          { dueSoonDaysBefore: null },
          {},
        ]) {
          const res = await update(input, as(alice));
          expect([input, codes(res)]).toEqual([input, ['BAD_USER_INPUT']]);
          expect(res.errors?.[0]?.message).toMatch(/dueSoonDaysBefore|null|at least one/);
        }
        expect(await preferencesOf(alice)).toEqual(before);
      });

      it('needs a signed-in user', async () => {
        const res = await update({ dueSoon: false }, {});
        expect(codes(res)).toEqual(['UNAUTHENTICATED']);
      });
    });

    describe('Mutation.markNotificationsRead', () => {
      const mark = (ids: string[], headers: Record<string, string>) =>
        query<{ markNotificationsRead: number }>('mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }', { ids }, headers);
      const unreadOf = async (userId: string) =>
        (await users<{ unreadNotificationCount: number }>([userId], 'unreadNotificationCount', as(userId))).data?._entities[0]
          ?.unreadNotificationCount;

      it('ignores someone else’s ids: another patron or a librarian marks nothing and learns nothing', async () => {
        for (const headers of [as(bob), staff()]) {
          const res = await mark(
            inbox.map((n) => n.id),
            headers,
          );
          expect(res.errors).toBeUndefined();
          expect(res.data?.markNotificationsRead).toBe(0);
        }
        expect(await unreadOf(alice)).toBe(4);
      });

      it('refuses ids that are not notification ids, or too many at once, and marks none of them', async () => {
        for (const ids of [[unread[0]!.id, 'not-an-id'], Array.from({ length: 101 }, () => randomUUID())]) {
          const res = await mark(ids, as(alice));
          expect(codes(res)).toEqual(['BAD_USER_INPUT']);
        }
        expect(await unreadOf(alice)).toBe(4);
      });

      it('counts only the notifications it marked now: own, unread and named once', async () => {
        const readBefore = inbox.find((n) => !unread.includes(n))!;
        clock.advance(60);
        const res = await mark([unread[0]!.id, unread[0]!.id, unread[1]!.id, readBefore.id, randomUUID()], as(alice));
        expect(res.errors).toBeUndefined();
        expect(res.data?.markNotificationsRead).toBe(2);
        expect(await unreadOf(alice)).toBe(2);
        const again = await mark([unread[0]!.id, unread[1]!.id], as(alice));
        expect(again.data?.markNotificationsRead).toBe(0);
        expect((await mark([], as(alice))).data?.markNotificationsRead).toBe(0);
        const listed = await page(alice, {}, as(alice));
        const marked = listed.data?._entities[0]?.notifications.edges.find((e) => e.node.id === unread[0]!.id)?.node;
        expect(marked?.readAt).toBe(clock.now().toISOString());
      });

      it('needs a signed-in user', async () => {
        const res = await mark([unread[2]!.id], {});
        expect(codes(res)).toEqual(['UNAUTHENTICATED']);
        expect(await unreadOf(alice)).toBe(2);
      });
    });

    describe('create', () => {
      it('refuses an empty message and ids that are not UUIDs', async () => {
        await expect(service.notifications.create({ userId: alice, kind: 'OVERDUE', message: '  ' })).rejects.toMatchObject({
          extensions: { code: 'BAD_USER_INPUT' },
        });
        await expect(service.notifications.create({ userId: alice, kind: 'OVERDUE', message: 'x', bookId: 'nope' })).rejects.toMatchObject({
          extensions: { code: 'BAD_USER_INPUT' },
        });
      });
    });
  });
}

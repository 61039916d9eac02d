import { randomUUID } from 'node:crypto';
import { encodeCursor, callerCredential, CALLER_HEADER, serviceCredential, type Role, type ServiceOptions } from '@shelfwise/kit';
import { graphql, type GraphQLResponse } from '@shelfwise/testkit';
import { start, type ReservationsHandle } from '../src/server.js';
import type { ReservationModel } from '../src/mappers.js';

const MINUTE = 60_000;
const T0 = new Date('2026-11-02T09:00:00.000Z').getTime();
const at = (minutes: number) => new Date(T0 + minutes * MINUTE);

interface ReservationNode {
  id: string;
  status: string;
  position: number | null;
  createdAt: string;
  readyAt: string | null;
  pickupBy: string | null;
  user: { id: string };
  book: { id: string };
}
interface Page {
  totalCount: number;
  edges: { cursor: string; node: ReservationNode }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const FIELDS = 'id status position createdAt readyAt pickupBy user { id } book { id }';
const PAGE_FIELDS = `totalCount edges { cursor node { ${FIELDS} } } pageInfo { hasNextPage endCursor }`;

/**
 * The reservations subgraph's behaviour, run once on PGlite (reservations.test.ts) and once on real
 * Postgres (reservations.postgres.test.ts): the queue positions are raw SQL and must hold on both.
 */
export function describeReservationsSubgraph(
  title: string,
  describeFn: jest.Describe,
  options: () => ServiceOptions,
  cleanup?: () => Promise<void>,
): void {
  describeFn(title, () => {
    let handle: ReservationsHandle;
    const [alice, bob, carol, dave, erin, frank, gina] = Array.from({ length: 7 }, () => randomUUID()) as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    const librarian = randomUUID();
    const bookX = randomUUID(); // five holds; bob's became READY and dave's was CANCELLED
    const bookTie = randomUUID(); // two holds placed at the same instant
    const bookY = randomUUID(); // one hold
    const bookZ = randomUUID(); // no holds
    let queueX: ReservationModel[]; // alice, bob, carol, dave, erin: oldest first
    let ties: ReservationModel[];
    let aliceY: ReservationModel;
    let aliceMore: ReservationModel[]; // five more of alice's holds, on other books

    const as = (userId: string, role: Role = 'PATRON') => ({ [CALLER_HEADER]: callerCredential({ userId, role }) });
    const staff = () => as(librarian, 'LIBRARIAN');
    const stats = () => handle.database.db.stats.statements;
    const query = <T>(
      q: string,
      variables: Record<string, unknown> = {},
      headers: Record<string, string> = {},
    ): Promise<GraphQLResponse<T>> => graphql<T>(handle.url, q, variables, headers);
    const entities = (ids: string[], headers: Record<string, string> = {}) =>
      query<{ _entities: (ReservationNode | null)[] }>(
        `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Reservation { ${FIELDS} } } }`,
        { reps: ids.map((id) => ({ __typename: 'Reservation', id })) },
        headers,
      );
    const userReservations = (
      userId: string,
      args: { status?: string; first?: number; after?: string | null },
      headers: Record<string, string>,
    ) =>
      query<{ _entities: ({ reservations: Page } | null)[] }>(
        `query($reps: [_Any!]!, $status: ReservationStatus, $first: Int, $after: String) {
          _entities(representations: $reps) { ... on User { reservations(status: $status, first: $first, after: $after) { ${PAGE_FIELDS} } } }
        }`,
        { reps: [{ __typename: 'User', id: userId }], ...args },
        headers,
      );
    const positions = async (reservations: ReservationModel[]) => {
      const res = await entities(
        reservations.map((r) => r.id),
        staff(),
      );
      expect(res.errors).toBeUndefined();
      return res.data!._entities.map((r) => r?.position);
    };
    const ids = (page: Page | undefined) => page?.edges.map((e) => e.node.id);
    const codes = (res: GraphQLResponse<unknown>) => res.errors?.map((e) => e.extensions?.code);
    const place = (userId: string, bookId: string, createdAt: Date) => handle.reservations.create({ userId, bookId, createdAt });
    // Holds leave the queue through mutations of a later issue; until then the tests move them directly.
    const setStatus = (id: string, data: { status: 'READY' | 'CANCELLED' | 'FULFILLED' | 'EXPIRED'; readyAt?: Date; pickupBy?: Date }) =>
      handle.database.prisma.reservation.update({ where: { id }, data });

    beforeAll(async () => {
      handle = await start({ ...options(), holds: { scanIntervalMs: 0, reconcileIntervalMs: 0 } });
      queueX = [];
      for (const [i, userId] of [alice, bob, carol, dave, erin].entries()) queueX.push(await place(userId, bookX, at(i)));
      ties = [await place(frank, bookTie, at(5)), await place(gina, bookTie, at(5))];
      aliceY = await place(alice, bookY, at(10));
      aliceMore = [];
      for (let i = 0; i < 5; i += 1) aliceMore.push(await place(alice, randomUUID(), at(20 + i)));
      queueX[1] = await setStatus(queueX[1]!.id, { status: 'READY', readyAt: at(30), pickupBy: at(30 + 3 * 24 * 60) });
      queueX[3] = await setStatus(queueX[3]!.id, { status: 'CANCELLED' });
    });
    afterAll(async () => {
      await handle?.stop();
      await cleanup?.();
    });

    describe('_entities', () => {
      it('resolves reservations with their positions in two statements, for one or many', async () => {
        let before = stats();
        const one = await entities([queueX[0]!.id], staff());
        expect(one.errors).toBeUndefined();
        expect(one.data?._entities).toEqual([
          {
            id: queueX[0]!.id,
            status: 'WAITING',
            position: 1,
            createdAt: at(0).toISOString(),
            readyAt: null,
            pickupBy: null,
            user: { id: alice },
            book: { id: bookX },
          },
        ]);
        expect(stats() - before).toBe(2);

        const all = [...queueX, ...ties, aliceY, ...aliceMore];
        before = stats();
        const many = await entities(
          all.map((r) => r.id),
          staff(),
        );
        expect(many.errors).toBeUndefined();
        expect(many.data?._entities.map((r) => r?.id)).toEqual(all.map((r) => r.id));
        expect(stats() - before).toBe(2);
      });

      it('shows a reservation to its patron and refuses everyone else', async () => {
        const own = await entities([queueX[1]!.id], as(bob));
        expect(own.errors).toBeUndefined();
        expect(own.data?._entities[0]).toMatchObject({
          status: 'READY',
          position: null,
          readyAt: at(30).toISOString(),
          pickupBy: at(30 + 3 * 24 * 60).toISOString(),
        });

        const other = await entities([queueX[0]!.id, queueX[2]!.id], as(carol));
        expect(other.data?._entities[0]).toBeNull();
        expect(other.data?._entities[1]?.id).toBe(queueX[2]!.id);
        expect(codes(other)).toEqual(['FORBIDDEN']);
        expect(other.errors?.[0]?.path).toEqual(['_entities', 0]);

        const anonymous = await entities([queueX[0]!.id]);
        expect(anonymous.data?._entities).toEqual([null]);
        expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
      });

      it('answers null for reservations that do not exist, without querying for malformed ids', async () => {
        const before = stats();
        const malformed = await entities(['nope'], staff());
        expect(malformed.errors).toBeUndefined();
        expect(malformed.data?._entities).toEqual([null]);
        expect(stats() - before).toBe(0);
        const missing = await entities([randomUUID()], as(alice));
        expect(missing.errors).toBeUndefined();
        expect(missing.data?._entities).toEqual([null]);
      });
    });

    describe('position', () => {
      it('numbers the WAITING holds of a book without gaps, null for the rest', async () => {
        // bob's hold is READY and dave's CANCELLED: alice, carol and erin are 1, 2, 3.
        expect(await positions(queueX)).toEqual([1, null, 2, null, 3]);
        expect(await positions([aliceY])).toEqual([1]);
      });

      it('breaks ties on the time by id', async () => {
        const [first, second] = [...ties].sort((a, b) => (a.id < b.id ? -1 : 1));
        expect(await positions([second!, first!])).toEqual([2, 1]);
      });

      it('is live: holds move up as the ones ahead leave the queue', async () => {
        const book = randomUUID();
        const queue = [];
        for (let i = 0; i < 4; i += 1) queue.push(await place(randomUUID(), book, at(100 + i)));
        expect(await positions(queue)).toEqual([1, 2, 3, 4]);
        await setStatus(queue[0]!.id, { status: 'FULFILLED' });
        await setStatus(queue[2]!.id, { status: 'EXPIRED' });
        expect(await positions(queue)).toEqual([null, 1, null, 2]);
      });
    });

    describe('Book.holdQueueLength', () => {
      it('counts the WAITING holds of 100 books in one statement, for anyone', async () => {
        const books = [bookX, bookTie, bookY, bookZ, 'not-a-uuid', ...Array.from({ length: 95 }, () => randomUUID())];
        const before = stats();
        const res = await query<{ _entities: { id: string; holdQueueLength: number }[] }>(
          'query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Book { id holdQueueLength } } }',
          { reps: books.map((id) => ({ __typename: 'Book', id })) },
        );
        expect(res.errors).toBeUndefined();
        expect(stats() - before).toBe(1);
        expect(res.data?._entities).toHaveLength(100);
        expect(res.data?._entities.slice(0, 5).map((b) => b.holdQueueLength)).toEqual([3, 2, 1, 0, 0]);
        expect(res.data?._entities.slice(5).every((b) => b.holdQueueLength === 0)).toBe(true);
      });
    });

    describe('Query.waitingHoldCount (internal)', () => {
      const waiting = (bookId: string, headers: Record<string, string>) =>
        query<{ waitingHoldCount: number }>('query($id: ID!) { waitingHoldCount(bookId: $id) }', { id: bookId }, headers);
      const service = { [CALLER_HEADER]: serviceCredential('loans') };

      it('answers another service how many holds wait for a book', async () => {
        expect((await waiting(bookX, service)).data?.waitingHoldCount).toBe(3);
        expect((await waiting(bookY, service)).data?.waitingHoldCount).toBe(1);
        expect((await waiting(bookZ, service)).data?.waitingHoldCount).toBe(0);
        const before = stats();
        expect((await waiting('not-a-uuid', service)).data?.waitingHoldCount).toBe(0);
        expect(stats() - before).toBe(0);
      });

      it('is refused to people, staff included', async () => {
        for (const headers of [{}, as(alice), staff(), as(librarian, 'ADMIN')]) {
          const res = await waiting(bookX, headers);
          expect(res.data).toBeNull();
          expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        }
      });
    });

    describe('internal operations for loans', () => {
      const service = { [CALLER_HEADER]: serviceCredential('loans') };
      const ready = (userId: string, bookId: string, headers: Record<string, string>) =>
        query<{ readyHoldFor: string | null }>(
          'query($u: ID!, $b: ID!) { readyHoldFor(userId: $u, bookId: $b) }',
          { u: userId, b: bookId },
          headers,
        );
      const fulfil = (reservationId: string, loanId: string, headers: Record<string, string>) =>
        query<{ fulfillHold: boolean }>(
          'mutation($r: ID!, $l: ID!) { fulfillHold(reservationId: $r, loanId: $l) }',
          { r: reservationId, l: loanId },
          headers,
        );

      it("answers the patron's READY hold, fulfils it once per loan, and refuses a WAITING one", async () => {
        expect((await ready(bob, bookX, service)).data?.readyHoldFor).toBe(queueX[1]!.id);
        expect((await ready(alice, bookX, service)).data?.readyHoldFor).toBeNull();
        expect((await ready('nope', bookX, service)).data?.readyHoldFor).toBeNull();
        const book = randomUUID();
        const hold = await place(randomUUID(), book, at(200));
        await setStatus(hold.id, { status: 'READY', readyAt: at(201), pickupBy: at(300) });
        const loanId = randomUUID();
        expect((await fulfil(hold.id, loanId, service)).data?.fulfillHold).toBe(true);
        expect((await fulfil(hold.id, loanId, service)).data?.fulfillHold).toBe(true);
        expect(codes(await fulfil(hold.id, randomUUID(), service))).toEqual(['CONFLICT']);
        expect(codes(await fulfil(queueX[0]!.id, loanId, service))).toEqual(['CONFLICT']);
        expect(codes(await fulfil(randomUUID(), loanId, service))).toEqual(['NOT_FOUND']);
        expect(codes(await fulfil('nope', loanId, service))).toEqual(['BAD_USER_INPUT']);
      });

      it('are refused to people, staff included', async () => {
        for (const headers of [{}, as(alice), staff(), as(librarian, 'ADMIN')]) {
          expect(codes(await ready(bob, bookX, headers))).toEqual(['FORBIDDEN']);
          expect(codes(await fulfil(queueX[1]!.id, randomUUID(), headers))).toEqual(['FORBIDDEN']);
          const routed = await query(
            'mutation($l: ID!, $b: ID!) { routeReturnedCopy(loanId: $l, bookId: $b) { copyId } }',
            { l: randomUUID(), b: bookX },
            headers,
          );
          expect(codes(routed)).toEqual(['FORBIDDEN']);
        }
      });
    });

    describe('User.reservations', () => {
      it('lists a patron their own reservations, newest first, filtered by status', async () => {
        const all = await userReservations(alice, {}, as(alice));
        expect(all.errors).toBeUndefined();
        expect(ids(all.data?._entities[0]?.reservations)).toEqual(
          [...aliceMore]
            .reverse()
            .map((r) => r.id)
            .concat(aliceY.id, queueX[0]!.id),
        );
        expect(all.data?._entities[0]?.reservations.totalCount).toBe(7);
        expect(all.data?._entities[0]?.reservations.edges.at(-1)?.node.position).toBe(1);

        const ready = await userReservations(bob, { status: 'READY' }, as(bob));
        expect(ids(ready.data?._entities[0]?.reservations)).toEqual([queueX[1]!.id]);
        const waiting = await userReservations(bob, { status: 'WAITING' }, as(bob));
        expect(waiting.data?._entities[0]?.reservations.totalCount).toBe(0);
        const cancelled = await userReservations(dave, { status: 'CANCELLED' }, staff());
        expect(ids(cancelled.data?._entities[0]?.reservations)).toEqual([queueX[3]!.id]);
      });

      it('pages without repeats or gaps', async () => {
        const seen: string[] = [];
        let after: string | null = null;
        let pages = 0;
        do {
          const res: GraphQLResponse<{ _entities: ({ reservations: Page } | null)[] }> = await userReservations(
            alice,
            { first: 3, after },
            as(alice),
          );
          expect(res.errors).toBeUndefined();
          const page = res.data!._entities[0]!.reservations;
          seen.push(...ids(page)!);
          after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
          pages += 1;
        } while (after);
        expect(pages).toBe(3);
        expect(seen).toEqual(
          [...aliceMore]
            .reverse()
            .map((r) => r.id)
            .concat(aliceY.id, queueX[0]!.id),
        );
      });

      it('is for the patron themselves and library staff only', async () => {
        const byStaff = await userReservations(alice, { first: 1 }, staff());
        expect(byStaff.errors).toBeUndefined();
        expect(ids(byStaff.data?._entities[0]?.reservations)).toEqual([aliceMore[4]!.id]);
        const byOther = await userReservations(alice, {}, as(bob));
        expect(byOther.data?._entities[0] ?? null).toBeNull();
        expect(codes(byOther)).toEqual(['FORBIDDEN']);
        expect(codes(await userReservations(alice, {}, {}))).toEqual(['UNAUTHENTICATED']);
      });

      it('keeps book and user references public while refusing another patron the reservations under them', async () => {
        const res = await query<{ _entities: ({ id: string; holdQueueLength?: number; reservations?: { totalCount: number } } | null)[] }>(
          `query($reps: [_Any!]!) {
            _entities(representations: $reps) {
              ... on Book { id holdQueueLength }
              ... on User { id reservations { totalCount } }
            }
          }`,
          {
            reps: [
              { __typename: 'Book', id: bookX },
              { __typename: 'User', id: alice },
              { __typename: 'User', id: bob },
            ],
          },
          as(bob),
        );
        expect(res.data?._entities).toEqual([{ id: bookX, holdQueueLength: 3 }, null, { id: bob, reservations: { totalCount: 1 } }]);
        expect(codes(res)).toEqual(['FORBIDDEN']);
        expect(res.errors?.[0]?.path).toEqual(['_entities', 1, 'reservations']);

        // The reference itself is only an id: anyone may resolve it, as long as nothing personal is asked.
        const anonymous = await query<{ _entities: { id: string }[] }>(
          'query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id } } }',
          { reps: [{ __typename: 'User', id: alice }] },
        );
        expect(anonymous.errors).toBeUndefined();
        expect(anonymous.data?._entities).toEqual([{ id: alice }]);
      });

      it('refuses bad input with BAD_USER_INPUT', async () => {
        for (const args of [
          { first: 101 },
          { first: -1 },
          { after: 'garbage' },
          { after: encodeCursor('loans', [at(0).toISOString(), randomUUID()]) },
          { after: encodeCursor('reservations', ['yesterday', randomUUID()]) },
          { after: encodeCursor('reservations', [at(0).toISOString(), 'not-a-uuid']) },
        ]) {
          const res = await userReservations(alice, args, as(alice));
          expect(res.data?._entities[0] ?? null).toBeNull();
          expect(codes(res)).toEqual(['BAD_USER_INPUT']);
        }
      });

      it('answers an empty list for a user id that cannot exist', async () => {
        const res = await userReservations('nobody', {}, staff());
        expect(res.errors).toBeUndefined();
        expect(res.data?._entities[0]?.reservations).toEqual({
          totalCount: 0,
          edges: [],
          pageInfo: { hasNextPage: false, endCursor: null },
        });
      });
    });
  });
}

import { randomUUID } from 'node:crypto';
import { callerCredential, InMemoryBus, ServiceClock, CALLER_HEADER, type Role, type ServiceOptions } from '@shelfwise/kit';
import { graphql, type GraphQLResponse } from '@shelfwise/testkit';
import { start, type PaymentsHandle } from '../src/server.js';
import type { FineModel } from '../src/mappers.js';

interface FineNode {
  id: string;
  amountCents: number;
  reason: string;
  status: string;
  createdAt: string;
  user: { id: string };
  loan: { id: string } | null;
}
interface UserNode {
  id: string;
  balanceCents: number;
  fines: { id: string; status: string }[];
  payments: { id: string; amountCents: number; createdAt: string; user: { id: string }; fines: { id: string; amountCents: number }[] }[];
}

const FINE_FIELDS = 'id amountCents reason status createdAt user { id } loan { id }';
const USER_FIELDS = 'id balanceCents fines { id status } payments { id amountCents createdAt user { id } fines { id amountCents } }';

export interface SuiteOptions {
  /** Races between concurrent payments: meaningful only on real Postgres (PGlite is one connection). */
  concurrency?: boolean;
}

/**
 * The payments subgraph's behaviour, run once on PGlite (payments.test.ts) and once on real Postgres
 * (payments.postgres.test.ts) so the SQL is proven on both.
 */
export function describePaymentsSubgraph(
  title: string,
  describeFn: jest.Describe,
  options: () => ServiceOptions,
  cleanup?: () => Promise<void>,
  suite: SuiteOptions = {},
): void {
  describeFn(title, () => {
    const clock = new ServiceClock(true);
    let payments: PaymentsHandle;
    const alice = randomUUID();
    const bob = randomUUID();
    const carol = randomUUID(); // never fined
    const librarian = randomUUID();
    const loanOfAlice = randomUUID();
    let overdue: FineModel; // alice, 150, OPEN, for a loan
    let lost: FineModel; // alice, 2500, OPEN
    let damaged: FineModel; // alice, 300, PAID by alicePayment
    let bobs: FineModel; // bob, 700, OPEN

    const as = (userId: string, role: Role = 'PATRON') => ({ [CALLER_HEADER]: callerCredential({ userId, role }) });
    const staff = () => as(librarian, 'LIBRARIAN');
    const query = <T>(
      q: string,
      variables: Record<string, unknown> = {},
      headers: Record<string, string> = {},
    ): Promise<GraphQLResponse<T>> => graphql<T>(payments.url, q, variables, headers);
    const fineEntities = (ids: string[], headers: Record<string, string> = {}) =>
      query<{ _entities: (FineNode | null)[] }>(
        `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Fine { ${FINE_FIELDS} } } }`,
        { reps: ids.map((id) => ({ __typename: 'Fine', id })) },
        headers,
      );
    const users = (ids: string[], headers: Record<string, string> = {}, fields = USER_FIELDS) =>
      query<{ _entities: (UserNode | null)[] }>(
        `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { ${fields} } } }`,
        { reps: ids.map((id) => ({ __typename: 'User', id })) },
        headers,
      );
    const statements = () => payments.database.db.stats.statements;
    const codes = (res: GraphQLResponse<unknown>) => (res.errors ?? []).map((e) => e.extensions?.code);

    beforeAll(async () => {
      payments = await start({
        ...options(),
        clock,
        bus: new InMemoryBus(),
        money: { currency: 'EUR', maxFineCents: 100_000 },
        patrons: { exists: (id) => Promise.resolve(([alice, bob, carol] as string[]).includes(id)) },
      });
      ({ fine: overdue } = await payments.fines.recordOverdueFine({
        userId: alice,
        loanId: loanOfAlice,
        bookId: randomUUID(),
        amountCents: 150,
        daysOverdue: 3,
      }));
      clock.advance(60);
      lost = await payments.fines.assessFine({ userId: alice, amountCents: 2500, reason: 'LOST', note: 'Never came back.' }, librarian);
      clock.advance(60);
      damaged = await payments.fines.assessFine({ userId: alice, amountCents: 300, reason: 'DAMAGED' }, librarian);
      bobs = await payments.fines.assessFine({ userId: bob, amountCents: 700, reason: 'OTHER', note: 'Broken CD case.' }, librarian);
      clock.advance(60);
      await payments.payments.recordPayment({ userId: alice, fineIds: [damaged.id], idempotencyKey: 'alice-1' });
    });
    afterAll(async () => {
      await payments?.stop();
      await cleanup?.();
    });

    describe('Fine entities', () => {
      it('resolves many fines for library staff in one query, with their user and loan references', async () => {
        const before = statements();
        const res = await fineEntities([overdue.id, lost.id, damaged.id, bobs.id, 'not-a-uuid', randomUUID()], staff());
        expect(res.errors).toBeUndefined();
        expect(res.data?._entities.map((f) => f?.id ?? null)).toEqual([overdue.id, lost.id, damaged.id, bobs.id, null, null]);
        expect(res.data?._entities[0]).toEqual({
          id: overdue.id,
          amountCents: 150,
          reason: 'OVERDUE',
          status: 'OPEN',
          createdAt: overdue.createdAt.toISOString(),
          user: { id: alice },
          loan: { id: loanOfAlice },
        });
        expect(res.data?._entities[2]).toMatchObject({ status: 'PAID', loan: null });
        expect(statements() - before).toBe(1);
      });

      it("gives a patron their own fines and refuses another patron's with FORBIDDEN", async () => {
        const res = await fineEntities([overdue.id, bobs.id], as(alice));
        expect(res.data?._entities[0]?.id).toBe(overdue.id);
        expect(res.data?._entities[1]).toBeNull();
        expect(res.errors).toHaveLength(1);
        expect(res.errors?.[0]).toMatchObject({ path: ['_entities', 1], extensions: { code: 'FORBIDDEN' } });
        // Nothing of Bob's fine leaks: not its id, not its amount (700 cents).
        expect(JSON.stringify(res)).not.toContain(bobs.id);
        expect(res.data?._entities.some((f) => f?.amountCents === 700)).toBe(false);
      });

      it('asks an anonymous caller to sign in without reading the database', async () => {
        const before = statements();
        const res = await fineEntities([overdue.id], {});
        expect(res.data?._entities[0]).toBeNull();
        expect(codes(res)).toEqual(['UNAUTHENTICATED']);
        expect(statements() - before).toBe(0);
      });
    });

    describe('Query.currency', () => {
      it('tells anyone, signed in or not, the configured currency without reading the database', async () => {
        const before = statements();
        for (const headers of [{}, as(alice), staff()]) {
          const res = await query<{ currency: string }>('{ currency }', {}, headers);
          expect(res.errors).toBeUndefined();
          expect(res.data?.currency).toBe('EUR');
        }
        expect(statements() - before).toBe(0);
      });
    });

    describe('User.fines, User.balanceCents, User.payments', () => {
      it('refuses an anonymous caller with UNAUTHENTICATED', async () => {
        const res = await users([alice], {});
        expect(res.data?._entities[0]).toBeNull();
        expect(new Set(codes(res))).toEqual(new Set(['UNAUTHENTICATED']));
        expect(JSON.stringify(res)).not.toContain('2650');
      });

      it('refuses another patron with FORBIDDEN, on every field', async () => {
        for (const field of ['balanceCents', 'fines { id }', 'payments { id }']) {
          const res = await users([alice], as(bob), `id ${field}`);
          expect(res.data?._entities[0]).toBeNull();
          expect(codes(res)).toEqual(['FORBIDDEN']);
        }
      });

      it('shows a patron their own fines (newest first), balance and payments', async () => {
        const res = await users([alice], as(alice));
        expect(res.errors).toBeUndefined();
        const user = res.data!._entities[0]!;
        expect(user.fines.map((f) => f.id)).toEqual([damaged.id, lost.id, overdue.id]);
        expect(user.balanceCents).toBe(2650);
        expect(user.payments).toHaveLength(1);
        expect(user.payments[0]).toMatchObject({ amountCents: 300, user: { id: alice }, fines: [{ id: damaged.id, amountCents: 300 }] });
        // Stamped by the service clock, which the test moved a minute on after the fine.
        expect(Date.parse(user.payments[0]!.createdAt) - damaged.createdAt.getTime()).toBeGreaterThanOrEqual(60_000);
      });

      it("shows library staff and admins any patron's record", async () => {
        for (const headers of [staff(), as(randomUUID(), 'ADMIN')]) {
          const res = await users([alice, bob], headers);
          expect(res.errors).toBeUndefined();
          expect(res.data?._entities.map((u) => u?.balanceCents)).toEqual([2650, 700]);
        }
      });

      it('counts only OPEN fines in the balance, and 0 for users without fines', async () => {
        const res = await users([alice, bob, carol, 'not-a-uuid'], staff(), 'id balanceCents');
        expect(res.errors).toBeUndefined();
        expect(res.data?._entities.map((u) => u?.balanceCents)).toEqual([2650, 700, 0, 0]);
      });

      it('filters fines by status', async () => {
        const res = await query<{
          _entities: { open: { id: string }[]; paid: { id: string }[]; waived: { id: string }[]; all: { id: string }[] }[];
        }>(
          `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User {
            open: fines(status: OPEN) { id } paid: fines(status: PAID) { id } waived: fines(status: WAIVED) { id } all: fines { id } } } }`,
          { reps: [{ __typename: 'User', id: alice }] },
          as(alice),
        );
        expect(res.errors).toBeUndefined();
        const user = res.data!._entities[0]!;
        expect(user.open.map((f) => f.id)).toEqual([lost.id, overdue.id]);
        expect(user.paid.map((f) => f.id)).toEqual([damaged.id]);
        expect(user.waived).toEqual([]);
        expect(user.all).toHaveLength(3);
      });

      it('costs the same number of statements for 1 user as for 40', async () => {
        const many = [alice, bob, ...Array.from({ length: 38 }, () => randomUUID())];
        let before = statements();
        const one = await users([alice], staff());
        const forOne = statements() - before;
        before = statements();
        const forty = await users(many, staff());
        const forForty = statements() - before;
        expect(one.errors).toBeUndefined();
        expect(forty.errors).toBeUndefined();
        expect(forty.data?._entities).toHaveLength(40);
        // fines, balances (one groupBy), payments, and the payments' fines (links + fines)
        expect(forOne).toBe(5);
        expect(forForty).toBe(forOne);
      });
    });

    describe('recordPayment', () => {
      it('charges once per idempotency key and refuses the key for a different request', async () => {
        const fine = await payments.fines.assessFine({ userId: carol, amountCents: 425, reason: 'LOST' }, librarian);
        const other = await payments.fines.assessFine({ userId: carol, amountCents: 75, reason: 'OTHER', note: 'Lost card.' }, librarian);
        const first = await payments.payments.recordPayment({ userId: carol, fineIds: [fine.id], idempotencyKey: 'carol-1' });
        const retry = await payments.payments.recordPayment({ userId: carol, fineIds: [fine.id.toUpperCase()], idempotencyKey: 'carol-1' });
        expect(retry.id).toBe(first.id);
        expect(first.amountCents).toBe(425);
        await expect(
          payments.payments.recordPayment({ userId: carol, fineIds: [other.id], idempotencyKey: 'carol-1' }),
        ).rejects.toMatchObject({
          extensions: { code: 'IDEMPOTENCY_KEY_REUSED' },
        });
        const res = await users([carol], as(carol), 'balanceCents payments { id }');
        expect(res.data?._entities[0]).toEqual({ balanceCents: 75, payments: [{ id: first.id }] });
      });

      it('refuses fines that are already paid, belong to someone else, or do not exist', async () => {
        await expect(
          payments.payments.recordPayment({ userId: alice, fineIds: [damaged.id], idempotencyKey: 'alice-2' }),
        ).rejects.toMatchObject({
          extensions: { code: 'CONFLICT' },
        });
        await expect(
          payments.payments.recordPayment({ userId: alice, fineIds: [bobs.id], idempotencyKey: 'alice-3' }),
        ).rejects.toMatchObject({
          extensions: { code: 'NOT_FOUND' },
        });
        await expect(
          payments.payments.recordPayment({ userId: alice, fineIds: ['nope'], idempotencyKey: 'alice-4' }),
        ).rejects.toMatchObject({
          extensions: { code: 'NOT_FOUND' },
        });
        await expect(payments.payments.recordPayment({ userId: alice, fineIds: [], idempotencyKey: 'alice-5' })).rejects.toMatchObject({
          extensions: { code: 'BAD_USER_INPUT' },
        });
        // Nothing was charged by the refusals.
        const res = await users([alice, bob], staff(), 'balanceCents');
        expect(res.data?._entities.map((u) => u?.balanceCents)).toEqual([2650, 700]);
      });

      it('seeds fines directly with createFine: an overdue one needs its loan and exists once per loan', async () => {
        const loanId = randomUUID();
        const dave = randomUUID();
        const first = await payments.fines.createFine({ userId: dave, loanId, amountCents: 60, reason: 'OVERDUE', daysOverdue: 2 });
        const again = await payments.fines.createFine({ userId: dave, loanId, amountCents: 90, reason: 'OVERDUE' });
        expect(again).toMatchObject({ id: first.id, amountCents: 60, daysOverdue: 2, overdueLoanId: loanId });
        await expect(payments.fines.createFine({ userId: dave, amountCents: 60, reason: 'OVERDUE' })).rejects.toMatchObject({
          extensions: { code: 'BAD_USER_INPUT' },
        });
        const lost = await payments.fines.createFine({ userId: dave, amountCents: 60, reason: 'LOST' });
        expect(lost).toMatchObject({ reason: 'LOST', overdueLoanId: null, assessedById: null });
      });

      it('refuses fines that are not a whole positive number of cents', async () => {
        for (const amountCents of [0, -5, 1.5]) {
          await expect(payments.fines.assessFine({ userId: carol, amountCents, reason: 'DAMAGED' }, librarian)).rejects.toMatchObject({
            extensions: { code: 'BAD_USER_INPUT' },
          });
        }
      });

      if (suite.concurrency) {
        it('charges once when the same payment is retried concurrently', async () => {
          const patron = randomUUID();
          const fine = await payments.fines.assessFine({ userId: patron, amountCents: 990, reason: 'LOST' }, librarian);
          const results = await Promise.all(
            Array.from({ length: 8 }, () =>
              payments.payments.recordPayment({ userId: patron, fineIds: [fine.id], idempotencyKey: 'same-key' }),
            ),
          );
          expect(new Set(results.map((p) => p.id)).size).toBe(1);
          const res = await users([patron], staff(), 'balanceCents payments { amountCents }');
          expect(res.data?._entities[0]).toEqual({ balanceCents: 0, payments: [{ amountCents: 990 }] });
        });

        it('lets exactly one of several concurrent payments of the same fine through', async () => {
          const patron = randomUUID();
          const fine = await payments.fines.assessFine({ userId: patron, amountCents: 120, reason: 'DAMAGED' }, librarian);
          const results = await Promise.allSettled(
            Array.from({ length: 8 }, (_, i) =>
              payments.payments.recordPayment({ userId: patron, fineIds: [fine.id], idempotencyKey: `key-${i}` }),
            ),
          );
          expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
          for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ extensions: { code: 'CONFLICT' } });
          const res = await users([patron], staff(), 'balanceCents payments { amountCents }');
          expect(res.data?._entities[0]).toEqual({ balanceCents: 0, payments: [{ amountCents: 120 }] });
        });
      }
    });
  });
}

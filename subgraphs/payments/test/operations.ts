import { randomUUID } from 'node:crypto';
import {
  CALLER_HEADER,
  callerCredential,
  DOMAIN_EVENTS_STREAM,
  InMemoryBus,
  isDomainEvent,
  serviceCredential,
  ServiceClock,
  type DomainEvent,
  type Role,
  type ServiceOptions,
} from '@shelfwise/kit';
import { graphql, type GraphQLResponse } from '@shelfwise/testkit';
import { start, type PaymentsHandle } from '../src/server.js';

type Headers = Record<string, string>;

interface FineNode {
  id: string;
  amountCents: number;
  reason: string;
  status: string;
  createdAt: string;
  daysOverdue: number | null;
  note: string | null;
  user: { id: string };
  loan: { id: string } | null;
  waiver: { reason: string; waivedAt: string; waivedBy: { id: string }; fine: { id: string } } | null;
}
interface PaymentNode {
  id: string;
  amountCents: number;
  currency: string;
  method: string;
  provider: string;
  reference: string;
  recordedBy: { id: string } | null;
  user: { id: string };
  fines: { id: string; status: string }[];
}

const FINE =
  'id amountCents reason status createdAt daysOverdue note user { id } loan { id } waiver { reason waivedAt waivedBy { id } fine { id } }';
const PAYMENT = 'id amountCents currency method provider reference recordedBy { id } user { id } fines { id status }';

const RECORD_OVERDUE = `mutation($input: RecordOverdueFineInput!) { recordOverdueFine(input: $input) { ${FINE} } }`;
const STANDING = `query($userId: ID!) { patronStanding(userId: $userId) { balanceCents } }`;
const ASSESS = `mutation($input: AssessFineInput!) { assessFine(input: $input) { ${FINE} } }`;
const WAIVE = `mutation($fineId: ID!, $reason: String!) { waiveFine(fineId: $fineId, reason: $reason) { ${FINE} } }`;
const PAY = `mutation($input: PayFinesInput!) { payFines(input: $input) { ${PAYMENT} } }`;
const DESK = `mutation($input: RecordDeskPaymentInput!) { recordDeskPayment(input: $input) { ${PAYMENT} } }`;
const WAIVERS = `query($userId: ID, $first: Int, $after: String) { fineWaivers(userId: $userId, first: $first, after: $after) {
  totalCount edges { cursor node { reason waivedBy { id } fine { id } } } pageInfo { hasNextPage endCursor } } }`;

export interface OperationsSuiteOptions {
  /** Races between concurrent requests: meaningful only on real Postgres (PGlite is one connection). */
  concurrency?: boolean;
}

/**
 * The payments mutations and internal operations (issue #7), run on PGlite (operations.test.ts) and on
 * real Postgres (operations.postgres.test.ts), where the concurrency tests race 20 requests.
 */
export function describePaymentOperations(
  title: string,
  describeFn: jest.Describe,
  options: () => ServiceOptions,
  cleanup?: () => Promise<void>,
  suite: OperationsSuiteOptions = {},
): void {
  describeFn(title, () => {
    const clock = new ServiceClock(true);
    const bus = new InMemoryBus();
    /** What reached the durable domain events stream (read in a consumer group of the test's own). */
    const events: DomainEvent[] = [];
    const known = new Set<string>();
    let payments: PaymentsHandle;
    const librarian = randomUUID();

    const patron = () => {
      const id = randomUUID();
      known.add(id);
      return id;
    };
    const as = (userId: string, role: Role = 'PATRON'): Headers => ({ [CALLER_HEADER]: callerCredential({ userId, role }) });
    const staff = () => as(librarian, 'LIBRARIAN');
    const loans = (): Headers => ({ [CALLER_HEADER]: serviceCredential('loans') });
    const anon = (): Headers => ({ [CALLER_HEADER]: callerCredential(null) });
    const query = <T>(q: string, variables: Record<string, unknown> = {}, headers: Headers = {}): Promise<GraphQLResponse<T>> =>
      graphql<T>(payments.url, q, variables, headers);
    const codes = (res: GraphQLResponse<unknown>) => (res.errors ?? []).map((e) => e.extensions?.code);
    const statements = () => payments.database.db.stats.statements;
    const eventsFor = (userId: string) => events.filter((e) => e.userId === userId);

    const recordOverdue = (input: Record<string, unknown>, headers: Headers = loans()) =>
      query<{ recordOverdueFine: FineNode | null }>(RECORD_OVERDUE, { input }, headers);
    const overdueInput = (userId: string, overrides: Record<string, unknown> = {}) => ({
      loanId: randomUUID(),
      userId,
      bookId: randomUUID(),
      amountCents: 75,
      daysOverdue: 3,
      ...overrides,
    });
    const standing = async (userId: string) => {
      const res = await query<{ patronStanding: { balanceCents: number } }>(STANDING, { userId }, loans());
      expect(res.errors).toBeUndefined();
      return res.data!.patronStanding.balanceCents;
    };
    const assess = (input: Record<string, unknown>, headers: Headers = staff()) =>
      query<{ assessFine: FineNode }>(ASSESS, { input }, headers);
    const fineOf = async (userId: string, amountCents: number, reason = 'DAMAGED') => {
      const res = await assess({ userId, amountCents, reason, note: 'Test fine.' });
      expect(res.errors).toBeUndefined();
      return res.data!.assessFine;
    };
    const pay = (userId: string, fineIds: string[], idempotencyKey: string, headers: Headers = as(userId)) =>
      query<{ payFines: PaymentNode }>(PAY, { input: { fineIds, idempotencyKey } }, headers);
    const record = (userId: string, fields = 'balanceCents fines { id status } payments { id amountCents }') =>
      query<{
        _entities: ({
          balanceCents: number;
          fines: { id: string; status: string }[];
          payments: { id: string; amountCents: number }[];
        } | null)[];
      }>(
        `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { ${fields} } } }`,
        { reps: [{ __typename: 'User', id: userId }] },
        staff(),
      ).then((res) => {
        expect(res.errors).toBeUndefined();
        return res.data!._entities[0]!;
      });

    beforeAll(async () => {
      await bus.consume(DOMAIN_EVENTS_STREAM, 'payments-test', 'test', (message) => {
        if (isDomainEvent(message) && message.type === 'FINE_ASSESSED') events.push(message);
      });
      payments = await start({
        ...options(),
        clock,
        bus,
        money: { currency: 'EUR', maxFineCents: 100_000 },
        patrons: { exists: (id) => Promise.resolve(known.has(id)) },
      });
    });
    afterAll(async () => {
      await payments?.stop();
      await bus.dispose();
      await cleanup?.();
    });

    describe('patronStanding (internal)', () => {
      it('sums the OPEN fines only, in one statement', async () => {
        const ada = patron();
        expect(await standing(ada)).toBe(0);
        const [a, b] = [await fineOf(ada, 250), await fineOf(ada, 1_000)];
        await fineOf(ada, 40);
        expect((await pay(ada, [b.id], 'standing-1')).errors).toBeUndefined();
        expect((await query(WAIVE, { fineId: a.id, reason: 'First offence.' }, staff())).errors).toBeUndefined();
        const before = statements();
        expect(await standing(ada)).toBe(40);
        expect(statements() - before).toBe(1);
      });

      it('answers only other services: patrons and librarians are refused', async () => {
        const ada = patron();
        for (const headers of [as(ada), staff(), as(randomUUID(), 'ADMIN'), anon()]) {
          const res = await query(STANDING, { userId: ada }, headers);
          expect(res.data).toBeNull();
          expect(codes(res)).toEqual(['FORBIDDEN']);
        }
      });

      it('refuses an id that is not a UUID', async () => {
        const res = await query(STANDING, { userId: 'nobody' }, loans());
        expect(codes(res)).toEqual(['BAD_USER_INPUT']);
      });
    });

    describe('recordOverdueFine (internal)', () => {
      it('records an OPEN overdue fine for the loan and publishes FINE_ASSESSED once', async () => {
        const ada = patron();
        const input = overdueInput(ada, { amountCents: 125, daysOverdue: 5 });
        const res = await recordOverdue(input);
        expect(res.errors).toBeUndefined();
        const fine = res.data!.recordOverdueFine!;
        expect(fine).toMatchObject({
          amountCents: 125,
          reason: 'OVERDUE',
          status: 'OPEN',
          daysOverdue: 5,
          note: null,
          user: { id: ada },
          loan: { id: input.loanId },
          waiver: null,
        });
        expect(await standing(ada)).toBe(125);
        expect(eventsFor(ada)).toEqual([
          {
            id: `FINE_ASSESSED:${fine.id}`,
            type: 'FINE_ASSESSED',
            userId: ada,
            occurredAt: fine.createdAt,
            source: 'payments',
            fineId: fine.id,
            loanId: input.loanId,
            bookId: input.bookId,
            data: { amountCents: 125, currency: 'EUR', reason: 'OVERDUE', daysOverdue: 5 },
          },
        ]);
        expect(await payments.fines.unpublishedEvents()).toBe(0);
      });

      it('returns the same fine, unchanged and without a second event, when the same loan is reported again', async () => {
        const ada = patron();
        const input = overdueInput(ada);
        const first = (await recordOverdue(input)).data!.recordOverdueFine!;
        // A retried return, even one computed a day later with a larger amount, is the same fine.
        const again = await recordOverdue(input);
        const later = await recordOverdue({ ...input, amountCents: 100, daysOverdue: 4 });
        expect(again.data?.recordOverdueFine?.id).toBe(first.id);
        expect(later.data?.recordOverdueFine).toMatchObject({ id: first.id, amountCents: 75, daysOverdue: 3 });
        expect(await standing(ada)).toBe(75);
        expect(eventsFor(ada)).toHaveLength(1);
        // Still the one fine after it was paid: a late retry does not fine the patron again.
        expect((await pay(ada, [first.id], 'after-retry')).errors).toBeUndefined();
        expect((await recordOverdue(input)).data?.recordOverdueFine).toMatchObject({ id: first.id, status: 'PAID' });
        expect((await record(ada)).fines).toHaveLength(1);
      });

      it('refuses the same loan reported for another patron (CONFLICT)', async () => {
        const input = overdueInput(patron());
        expect((await recordOverdue(input)).errors).toBeUndefined();
        const res = await recordOverdue({ ...input, userId: patron() });
        expect(codes(res)).toEqual(['CONFLICT']);
      });

      it('refuses zero, negative, fractional, absurd and overflowing amounts and silly day counts, recording nothing', async () => {
        const ada = patron();
        const bad: Record<string, unknown>[] = [
          { amountCents: 0 },
          { amountCents: -75 },
          { amountCents: 100_001 },
          { amountCents: 2_147_483_647 },
          { daysOverdue: 0 },
          { daysOverdue: -1 },
          { daysOverdue: 36_501 },
          { loanId: 'loan-1' },
          { bookId: 'book' },
        ];
        for (const overrides of bad) {
          const res = await recordOverdue(overdueInput(ada, overrides));
          expect({ overrides, codes: codes(res) }).toEqual({ overrides, codes: ['BAD_USER_INPUT'] });
        }
        // Not Ints at all: GraphQL refuses them before any resolver (no float ever reaches the service).
        for (const amountCents of [1.5, 2_147_483_648, '75']) {
          const res = await recordOverdue(overdueInput(ada, { amountCents }));
          expect(res.errors?.length).toBeGreaterThan(0);
          expect(res.data ?? null).toBeNull();
        }
        expect(await standing(ada)).toBe(0);
        expect(eventsFor(ada)).toEqual([]);
      });

      it('answers only other services', async () => {
        const ada = patron();
        for (const headers of [as(ada), staff(), anon()]) {
          const res = await recordOverdue(overdueInput(ada), headers);
          expect(codes(res)).toEqual(['FORBIDDEN']);
        }
        expect(await standing(ada)).toBe(0);
      });

      it('records one fine when the same return arrives 20 times at once', async () => {
        const ada = patron();
        const input = overdueInput(ada, { amountCents: 300, daysOverdue: 12 });
        const results = await Promise.all(Array.from({ length: 20 }, () => recordOverdue(input)));
        for (const res of results) expect(res.errors).toBeUndefined();
        expect(new Set(results.map((r) => r.data?.recordOverdueFine?.id)).size).toBe(1);
        expect((await record(ada)).fines).toHaveLength(1);
        expect(await standing(ada)).toBe(300);
        expect(eventsFor(ada)).toHaveLength(1);
      });
    });

    describe('assessFine', () => {
      it('records LOST, DAMAGED and OTHER fines with their note, and publishes FINE_ASSESSED', async () => {
        const ada = patron();
        const loanId = randomUUID();
        const lost = await assess({ userId: ada, amountCents: 2_499, reason: 'LOST', loanId, note: '  Never returned.  ' });
        expect(lost.errors).toBeUndefined();
        expect(lost.data?.assessFine).toMatchObject({
          amountCents: 2_499,
          reason: 'LOST',
          status: 'OPEN',
          note: 'Never returned.',
          daysOverdue: null,
          loan: { id: loanId },
        });
        const damaged = await assess({ userId: ada, amountCents: 100_000, reason: 'DAMAGED' });
        expect(damaged.data?.assessFine).toMatchObject({ amountCents: 100_000, note: null, loan: null });
        const other = await assess({ userId: ada, amountCents: 1, reason: 'OTHER', note: 'Replacement library card.' });
        expect(other.data?.assessFine).toMatchObject({ amountCents: 1, reason: 'OTHER' });
        expect(await standing(ada)).toBe(2_499 + 100_000 + 1);
        expect(eventsFor(ada).map((e) => [e.data?.reason, e.data?.amountCents, e.loanId])).toEqual([
          ['LOST', 2_499, loanId],
          ['DAMAGED', 100_000, null],
          ['OTHER', 1, null],
        ]);
      });

      it('refuses bad amounts, OVERDUE, OTHER without a note, long notes and unknown users, recording nothing', async () => {
        const ada = patron();
        const cases: [Record<string, unknown>, string][] = [
          [{ amountCents: 0 }, 'BAD_USER_INPUT'],
          [{ amountCents: -500 }, 'BAD_USER_INPUT'],
          [{ amountCents: 100_001 }, 'BAD_USER_INPUT'],
          [{ amountCents: 2_147_483_647 }, 'BAD_USER_INPUT'],
          [{ reason: 'OVERDUE' }, 'BAD_USER_INPUT'],
          [{ reason: 'OTHER', note: '   ' }, 'BAD_USER_INPUT'],
          [{ note: 'x'.repeat(501) }, 'BAD_USER_INPUT'],
          [{ loanId: 'loan' }, 'BAD_USER_INPUT'],
          [{ userId: randomUUID() }, 'NOT_FOUND'],
          [{ userId: 'someone' }, 'BAD_USER_INPUT'],
        ];
        for (const [overrides, code] of cases) {
          const res = await assess({ userId: ada, amountCents: 500, reason: 'DAMAGED', ...overrides });
          expect({ overrides, codes: codes(res) }).toEqual({ overrides, codes: [code] });
        }
        const floaty = await assess({ userId: ada, amountCents: 4.99, reason: 'DAMAGED' });
        expect(floaty.errors?.length).toBeGreaterThan(0);
        expect((await record(ada)).fines).toEqual([]);
        expect(eventsFor(ada)).toEqual([]);
      });

      it('is for library staff only', async () => {
        const ada = patron();
        expect(codes(await assess({ userId: ada, amountCents: 500, reason: 'DAMAGED' }, as(ada)))).toEqual(['FORBIDDEN']);
        expect(codes(await assess({ userId: ada, amountCents: 500, reason: 'DAMAGED' }, anon()))).toEqual(['UNAUTHENTICATED']);
        // Another service is not a librarian either.
        expect(codes(await assess({ userId: ada, amountCents: 500, reason: 'DAMAGED' }, loans()))).toEqual(['FORBIDDEN']);
        expect((await record(ada)).fines).toEqual([]);
      });
    });

    describe('waiveFine and the audit trail', () => {
      it('waives an OPEN fine and keeps who, when and why; the patron sees it too', async () => {
        const ada = patron();
        const fine = await fineOf(ada, 600);
        clock.advance(3_600);
        const before = clock.now().getTime();
        const res = await query<{ waiveFine: FineNode }>(WAIVE, { fineId: fine.id, reason: '  Book was already damaged.  ' }, staff());
        expect(res.errors).toBeUndefined();
        expect(res.data?.waiveFine).toMatchObject({
          id: fine.id,
          status: 'WAIVED',
          waiver: { reason: 'Book was already damaged.', waivedBy: { id: librarian }, fine: { id: fine.id } },
        });
        // Stamped by the service clock (an hour ahead of the fine), not the database's.
        const waivedAt = Date.parse(res.data!.waiveFine.waiver!.waivedAt);
        expect(waivedAt).toBeGreaterThanOrEqual(before);
        expect(waivedAt).toBeLessThanOrEqual(clock.now().getTime());
        expect(waivedAt - Date.parse(fine.createdAt)).toBeGreaterThanOrEqual(3_600_000);
        expect(await standing(ada)).toBe(0);
        const own = await query<{ _entities: FineNode[] }>(
          `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Fine { ${FINE} } } }`,
          { reps: [{ __typename: 'Fine', id: fine.id }] },
          as(ada),
        );
        expect(own.errors).toBeUndefined();
        expect(own.data?._entities[0]?.waiver?.reason).toBe('Book was already damaged.');
      });

      it('lists the audit trail for staff, newest first, per patron and by pages', async () => {
        const ada = patron();
        const fines = [await fineOf(ada, 10), await fineOf(ada, 20), await fineOf(ada, 30)];
        for (const [i, fine] of fines.entries()) {
          clock.advance(60);
          expect((await query(WAIVE, { fineId: fine.id, reason: `Reason ${i}` }, staff())).errors).toBeUndefined();
        }
        type Page = {
          fineWaivers: {
            totalCount: number;
            edges: { node: { reason: string; waivedBy: { id: string }; fine: { id: string } } }[];
            pageInfo: { hasNextPage: boolean; endCursor: string };
          };
        };
        const first = await query<Page>(WAIVERS, { userId: ada, first: 2 }, staff());
        expect(first.errors).toBeUndefined();
        expect(first.data?.fineWaivers.totalCount).toBe(3);
        expect(first.data?.fineWaivers.edges.map((e) => e.node.reason)).toEqual(['Reason 2', 'Reason 1']);
        expect(first.data?.fineWaivers.pageInfo.hasNextPage).toBe(true);
        const second = await query<Page>(WAIVERS, { userId: ada, first: 2, after: first.data!.fineWaivers.pageInfo.endCursor }, staff());
        expect(second.data?.fineWaivers.edges.map((e) => [e.node.reason, e.node.fine.id, e.node.waivedBy.id])).toEqual([
          ['Reason 0', fines[0]!.id, librarian],
        ]);
        expect(second.data?.fineWaivers.pageInfo.hasNextPage).toBe(false);
        const all = await query<Page>(WAIVERS, { first: 100 }, staff());
        expect(all.data?.fineWaivers.totalCount).toBeGreaterThanOrEqual(3);
        // The trail as a list is staff's.
        expect(codes(await query(WAIVERS, { userId: ada }, as(ada)))).toEqual(['FORBIDDEN']);
        expect(codes(await query(WAIVERS, { after: 'bogus' }, staff()))).toEqual(['BAD_USER_INPUT']);
      });

      it('refuses a missing reason, a fine already waived or paid, an unknown fine and a patron', async () => {
        const ada = patron();
        const [open, paid, waived] = [await fineOf(ada, 100), await fineOf(ada, 200), await fineOf(ada, 300)];
        expect((await pay(ada, [paid.id], 'waive-test')).errors).toBeUndefined();
        expect((await query(WAIVE, { fineId: waived.id, reason: 'Goodwill.' }, staff())).errors).toBeUndefined();
        expect(codes(await query(WAIVE, { fineId: open.id, reason: '   ' }, staff()))).toEqual(['BAD_USER_INPUT']);
        expect(codes(await query(WAIVE, { fineId: open.id, reason: 'x'.repeat(501) }, staff()))).toEqual(['BAD_USER_INPUT']);
        expect(codes(await query(WAIVE, { fineId: waived.id, reason: 'Again.' }, staff()))).toEqual(['CONFLICT']);
        expect(codes(await query(WAIVE, { fineId: paid.id, reason: 'Refund?' }, staff()))).toEqual(['CONFLICT']);
        expect(codes(await query(WAIVE, { fineId: randomUUID(), reason: 'Who?' }, staff()))).toEqual(['NOT_FOUND']);
        expect(codes(await query(WAIVE, { fineId: 'nope', reason: 'Who?' }, staff()))).toEqual(['NOT_FOUND']);
        expect(codes(await query(WAIVE, { fineId: open.id, reason: 'Mine.' }, as(ada)))).toEqual(['FORBIDDEN']);
        const after = await record(ada, 'balanceCents fines { id status }');
        expect(after.balanceCents).toBe(100);
        const trail = await query<{ fineWaivers: { totalCount: number } }>(WAIVERS, { userId: ada }, staff());
        expect(trail.data?.fineWaivers.totalCount).toBe(1);
      });
    });

    describe('payFines', () => {
      it("pays the patron's own open fines through the desk provider", async () => {
        const ada = patron();
        const [a, b] = [await fineOf(ada, 150), await fineOf(ada, 2_350)];
        await fineOf(ada, 500);
        const res = await pay(ada, [b.id, a.id], 'pay-1');
        expect(res.errors).toBeUndefined();
        const payment = res.data!.payFines;
        expect(payment).toMatchObject({
          amountCents: 2_500,
          currency: 'EUR',
          method: 'CARD',
          provider: 'desk',
          recordedBy: null,
          user: { id: ada },
        });
        expect(payment.reference).toMatch(/^desk-/);
        expect(payment.fines.map((f) => [f.id, f.status]).sort()).toEqual(
          [
            [a.id, 'PAID'],
            [b.id, 'PAID'],
          ].sort(),
        );
        expect(await standing(ada)).toBe(500);
      });

      it('returns the same payment for the same key and request, charging nothing more', async () => {
        const ada = patron();
        const [a, b] = [await fineOf(ada, 100), await fineOf(ada, 200)];
        const first = (await pay(ada, [a.id, b.id], 'same')).data!.payFines;
        const again = await pay(ada, [b.id, a.id], 'same');
        expect(again.errors).toBeUndefined();
        expect(again.data?.payFines).toEqual(first);
        const after = await record(ada);
        expect(after.payments).toEqual([{ id: first.id, amountCents: 300 }]);
        expect(after.balanceCents).toBe(0);
      });

      it('refuses a key reused for a different request (IDEMPOTENCY_KEY_REUSED), recording nothing', async () => {
        const ada = patron();
        const [a, b] = [await fineOf(ada, 100), await fineOf(ada, 200)];
        expect((await pay(ada, [a.id], 'reused')).errors).toBeUndefined();
        for (const fineIds of [[b.id], [a.id, b.id]]) {
          const res = await pay(ada, fineIds, 'reused');
          expect(codes(res)).toEqual(['IDEMPOTENCY_KEY_REUSED']);
        }
        const after = await record(ada);
        expect(after.payments).toHaveLength(1);
        expect(after.balanceCents).toBe(200);
      });

      it('refuses fines already paid or waived (CONFLICT) and charges nothing', async () => {
        const ada = patron();
        const [paid, waived, open] = [await fineOf(ada, 100), await fineOf(ada, 200), await fineOf(ada, 400)];
        expect((await pay(ada, [paid.id], 'first')).errors).toBeUndefined();
        expect((await query(WAIVE, { fineId: waived.id, reason: 'Goodwill.' }, staff())).errors).toBeUndefined();
        expect(codes(await pay(ada, [paid.id], 'second'))).toEqual(['CONFLICT']);
        expect(codes(await pay(ada, [waived.id, open.id], 'third'))).toEqual(['CONFLICT']);
        const after = await record(ada);
        expect(after.payments).toHaveLength(1);
        expect(after.fines.find((f) => f.id === open.id)?.status).toBe('OPEN');
        expect(after.balanceCents).toBe(400);
      });

      it("refuses an empty list, unknown ids and someone else's fine, recording nothing for anyone", async () => {
        const ada = patron();
        const bob = patron();
        const own = await fineOf(ada, 100);
        const bobs = await fineOf(bob, 900);
        const cases: [string[], string, string][] = [
          [[], 'BAD_USER_INPUT', 'k1'],
          [[randomUUID()], 'NOT_FOUND', 'k2'],
          [['not-a-fine'], 'NOT_FOUND', 'k3'],
          [[bobs.id], 'NOT_FOUND', 'k4'],
          [[own.id, bobs.id], 'NOT_FOUND', 'k5'],
          [Array.from({ length: 101 }, () => randomUUID()), 'BAD_USER_INPUT', 'k6'],
          [[own.id], 'BAD_USER_INPUT', ''],
          [[own.id], 'BAD_USER_INPUT', 'k'.repeat(201)],
        ];
        for (const [fineIds, code, key] of cases) {
          const res = await pay(ada, fineIds, key);
          expect(codes(res)).toEqual([code]);
          // The refusal never names or prices the other patron's fine.
          expect(JSON.stringify(res)).not.toContain('900');
        }
        const [adaAfter, bobAfter] = [await record(ada), await record(bob)];
        expect(adaAfter).toMatchObject({ balanceCents: 100, payments: [] });
        expect(bobAfter).toMatchObject({ balanceCents: 900, payments: [], fines: [{ id: bobs.id, status: 'OPEN' }] });
        // A refused key is not spent: the same key now pays the patron's own fine.
        expect((await pay(ada, [own.id], 'k4')).errors).toBeUndefined();
      });

      it('asks an anonymous caller to sign in', async () => {
        const ada = patron();
        const fine = await fineOf(ada, 100);
        expect(codes(await pay(ada, [fine.id], 'anon', anon()))).toEqual(['UNAUTHENTICATED']);
        expect(await standing(ada)).toBe(100);
      });

      if (suite.concurrency) {
        it('makes exactly one payment when 20 requests with one key arrive at once, all answered with it', async () => {
          const ada = patron();
          const fines = [await fineOf(ada, 1_000), await fineOf(ada, 234)];
          const ids = fines.map((f) => f.id);
          const results = await Promise.all(Array.from({ length: 20 }, () => pay(ada, ids, 'once')));
          for (const res of results) expect(res.errors).toBeUndefined();
          expect(new Set(results.map((r) => r.data?.payFines.id)).size).toBe(1);
          const after = await record(ada);
          expect(after.payments).toEqual([{ id: results[0]!.data!.payFines.id, amountCents: 1_234 }]);
          expect(after.balanceCents).toBe(0);
        });

        it('lets one of 20 concurrent payments of the same fine with different keys through; the rest are CONFLICT', async () => {
          const ada = patron();
          const fine = await fineOf(ada, 777);
          const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pay(ada, [fine.id], `race-${i}`)));
          expect(results.filter((r) => r.errors === undefined)).toHaveLength(1);
          for (const r of results.filter((r) => r.errors)) expect(codes(r)).toEqual(['CONFLICT']);
          expect((await record(ada)).payments).toEqual([{ id: expect.any(String), amountCents: 777 }]);
        });

        it('never both pays and waives one fine when the two race', async () => {
          const ada = patron();
          const fine = await fineOf(ada, 50);
          const [paid, waived] = await Promise.all([
            pay(ada, [fine.id], 'vs-waive'),
            query(WAIVE, { fineId: fine.id, reason: 'Race.' }, staff()),
          ]);
          expect([paid.errors, waived.errors].filter((e) => e === undefined)).toHaveLength(1);
          const after = await record(ada);
          expect(after.payments.length + (after.fines[0]?.status === 'WAIVED' ? 1 : 0)).toBe(1);
        });
      }
    });

    describe('recordDeskPayment', () => {
      it('records cash taken at the desk by a librarian, with who took it', async () => {
        const ada = patron();
        const fine = await fineOf(ada, 450);
        const input = { userId: ada, fineIds: [fine.id], idempotencyKey: 'till-42', method: 'CASH' };
        const res = await query<{ recordDeskPayment: PaymentNode }>(DESK, { input }, staff());
        expect(res.errors).toBeUndefined();
        expect(res.data?.recordDeskPayment).toMatchObject({
          amountCents: 450,
          method: 'CASH',
          provider: 'desk',
          recordedBy: { id: librarian },
          user: { id: ada },
        });
        // Retried by the desk app: the same payment; as CARD under the same key: another request.
        const retry = await query<{ recordDeskPayment: PaymentNode }>(DESK, { input }, staff());
        expect(retry.data?.recordDeskPayment.id).toBe(res.data?.recordDeskPayment.id);
        expect(codes(await query(DESK, { input: { ...input, method: 'CARD' } }, staff()))).toEqual(['IDEMPOTENCY_KEY_REUSED']);
        // The patron sees the payment among their own.
        const own = await query<{ _entities: { payments: { id: string; recordedBy: { id: string } }[] }[] }>(
          `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { payments { id recordedBy { id } } } } }`,
          { reps: [{ __typename: 'User', id: ada }] },
          as(ada),
        );
        expect(own.data?._entities[0]?.payments).toEqual([{ id: res.data!.recordDeskPayment.id, recordedBy: { id: librarian } }]);
      });

      it('is for library staff only, and only for the named patron’s fines', async () => {
        const ada = patron();
        const bob = patron();
        const fine = await fineOf(ada, 450);
        const input = { userId: ada, fineIds: [fine.id], idempotencyKey: 'till-1', method: 'CARD' };
        expect(codes(await query(DESK, { input }, as(ada)))).toEqual(['FORBIDDEN']);
        expect(codes(await query(DESK, { input }, as(bob)))).toEqual(['FORBIDDEN']);
        expect(codes(await query(DESK, { input: { ...input, userId: bob } }, staff()))).toEqual(['NOT_FOUND']);
        expect(codes(await query(DESK, { input: { ...input, userId: 'ada' } }, staff()))).toEqual(['NOT_FOUND']);
        expect(await standing(ada)).toBe(450);
      });
    });
  });
}

import { randomUUID } from 'node:crypto';
import {
  encodeCursor,
  callerCredential,
  serviceCredential,
  ServiceClock,
  CALLER_HEADER,
  type Role,
  type ServiceOptions,
} from '@shelfwise/kit';
import { graphql, type GraphQLResponse } from '@shelfwise/testkit';
import { start, type LoansHandle } from '../src/server.js';
import type { LoanModel } from '../src/mappers.js';

const DAY = 86_400;
const HOUR = 3_600_000;

interface LoanNode {
  id: string;
  status: string;
  overdue: boolean;
  borrowedAt: string;
  dueAt: string;
  returnedAt: string | null;
  renewalCount: number;
  user: { id: string };
  book: { id: string };
  copy: { id: string };
}
interface Page {
  totalCount: number;
  edges: { cursor: string; node: LoanNode }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

const LOAN_FIELDS = 'id status overdue borrowedAt dueAt returnedAt renewalCount user { id } book { id } copy { id }';
const PAGE_FIELDS = `totalCount edges { cursor node { ${LOAN_FIELDS} } } pageInfo { hasNextPage endCursor }`;

/**
 * The loans subgraph's behaviour, run once on PGlite (loans.test.ts) and once on real Postgres
 * (loans.postgres.test.ts) so the SQL is proven on both.
 */
export function describeLoansSubgraph(
  title: string,
  describeFn: jest.Describe,
  options: () => ServiceOptions,
  cleanup?: () => Promise<void>,
): void {
  describeFn(title, () => {
    const clock = new ServiceClock(true);
    let loans: LoansHandle;
    const alice = randomUUID();
    const bob = randomUUID();
    const dave = randomUUID();
    const librarian = randomUUID();
    const bookA = randomUUID();
    const bookB = randomUUID();
    const bookC = randomUUID();
    let returned: LoanModel; // alice, book A, came back
    let aliceA: LoanModel; // alice, book A, active, due in 11 days
    let aliceB: LoanModel; // alice, book B, active, due in 1 day
    let bobA: LoanModel; // bob, book A, active
    let daveLoans: LoanModel[]; // 50 loans of 50 books, borrowed in groups of 5 at the same time

    const as = (userId: string, role: Role = 'PATRON') => ({ [CALLER_HEADER]: callerCredential({ userId, role }) });
    const staff = () => as(librarian, 'LIBRARIAN');
    const query = <T>(
      q: string,
      variables: Record<string, unknown> = {},
      headers: Record<string, string> = {},
    ): Promise<GraphQLResponse<T>> => graphql<T>(loans.url, q, variables, headers);
    const entities = (ids: string[], headers: Record<string, string> = {}) =>
      query<{ _entities: (LoanNode | null)[] }>(
        `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Loan { ${LOAN_FIELDS} } } }`,
        { reps: ids.map((id) => ({ __typename: 'Loan', id })) },
        headers,
      );
    const userLoans = (userId: string, args: { status?: string; first?: number; after?: string | null }, headers: Record<string, string>) =>
      query<{ _entities: ({ loans: Page } | null)[] }>(
        `query($reps: [_Any!]!, $status: LoanStatus, $first: Int, $after: String) {
          _entities(representations: $reps) { ... on User { loans(status: $status, first: $first, after: $after) { ${PAGE_FIELDS} } } }
        }`,
        { reps: [{ __typename: 'User', id: userId }], ...args },
        headers,
      );
    const allLoans = (variables: Record<string, unknown>, headers: Record<string, string>) =>
      query<{ loans: Page }>(
        `query($filter: LoanFilter, $first: Int, $after: String) { loans(filter: $filter, first: $first, after: $after) { ${PAGE_FIELDS} } }`,
        variables,
        headers,
      );
    const ids = (page: Page | undefined) => page?.edges.map((e) => e.node.id);
    const codes = (res: GraphQLResponse<unknown>) => res.errors?.map((e) => e.extensions?.code);
    const daysFromNow = (days: number) => new Date(clock.now().getTime() + days * DAY * 1000);
    const newLoan = (userId: string, bookId: string, borrowedAt: Date, dueAt: Date) =>
      loans.loans.create({ userId, bookId, copyId: randomUUID(), borrowedAt, dueAt });

    beforeAll(async () => {
      // No background passes: this suite has no books or payments to talk to.
      loans = await start({ ...options(), clock, circulation: { reconcileIntervalMs: 0, scanIntervalMs: 0 } });
      const created = await newLoan(alice, bookA, daysFromNow(-30), daysFromNow(-16));
      returned = await loans.database.prisma.loan.update({
        where: { id: created.id },
        data: {
          status: 'RETURNED',
          returnedAt: daysFromNow(-20),
          openBookId: null,
          checkedInAt: daysFromNow(-20),
          fineCents: 0,
          fineSettledAt: daysFromNow(-20),
        },
      });
      aliceA = await newLoan(alice, bookA, daysFromNow(-3), daysFromNow(11));
      aliceB = await newLoan(alice, bookB, daysFromNow(-2), daysFromNow(1));
      bobA = await newLoan(bob, bookA, daysFromNow(-1), daysFromNow(13));
      const base = daysFromNow(-5).getTime();
      daveLoans = [];
      for (let i = 0; i < 50; i += 1) {
        // One open loan per book per patron: each of dave's loans is of a different book.
        daveLoans.push(await newLoan(dave, randomUUID(), new Date(base - Math.floor(i / 5) * HOUR), daysFromNow(9)));
      }
    });
    afterAll(async () => {
      await loans?.stop();
      await cleanup?.();
    });

    describe('_entities', () => {
      it('resolves one loan or fifty in a single SQL statement', async () => {
        let before = loans.database.db.stats.statements;
        const one = await entities([aliceA.id], staff());
        expect(one.errors).toBeUndefined();
        expect(loans.database.db.stats.statements - before).toBe(1);
        expect(one.data?._entities[0]).toEqual({
          id: aliceA.id,
          status: 'ACTIVE',
          overdue: false,
          borrowedAt: aliceA.borrowedAt.toISOString(),
          dueAt: aliceA.dueAt.toISOString(),
          returnedAt: null,
          renewalCount: 0,
          user: { id: alice },
          book: { id: bookA },
          copy: { id: aliceA.copyId },
        });

        before = loans.database.db.stats.statements;
        const fifty = await entities(
          daveLoans.map((l) => l.id),
          staff(),
        );
        expect(fifty.errors).toBeUndefined();
        expect(fifty.data?._entities.map((l) => l?.id)).toEqual(daveLoans.map((l) => l.id));
        expect(loans.database.db.stats.statements - before).toBe(1);
      });

      it('shows a loan to its borrower and refuses everyone else', async () => {
        const own = await entities([aliceA.id, returned.id], as(alice));
        expect(own.errors).toBeUndefined();
        expect(own.data?._entities.map((l) => l?.status)).toEqual(['ACTIVE', 'RETURNED']);
        expect(own.data?._entities[1]?.returnedAt).toBe(returned.returnedAt?.toISOString());

        const other = await entities([aliceA.id, bobA.id], as(bob));
        expect(other.data?._entities[0]).toBeNull();
        expect(other.data?._entities[1]?.id).toBe(bobA.id);
        expect(other.errors).toHaveLength(1);
        expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        expect(other.errors?.[0]?.path).toEqual(['_entities', 0]);

        const anonymous = await entities([aliceA.id]);
        expect(anonymous.data?._entities).toEqual([null]);
        expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
      });

      it('answers null for loans that do not exist, without querying for malformed ids', async () => {
        const before = loans.database.db.stats.statements;
        const res = await entities(['not-a-uuid'], staff());
        expect(res.errors).toBeUndefined();
        expect(res.data?._entities).toEqual([null]);
        expect(loans.database.db.stats.statements - before).toBe(0);
        const missing = await entities([randomUUID()], as(alice));
        expect(missing.errors).toBeUndefined();
        expect(missing.data?._entities).toEqual([null]);
      });
    });

    describe('User.loans', () => {
      it('lists a user their own loans, newest first, filtered by status', async () => {
        const all = await userLoans(alice, {}, as(alice));
        expect(all.errors).toBeUndefined();
        expect(ids(all.data?._entities[0]?.loans)).toEqual([aliceB.id, aliceA.id, returned.id]);
        expect(all.data?._entities[0]?.loans.totalCount).toBe(3);
        const active = await userLoans(alice, { status: 'ACTIVE' }, as(alice));
        expect(ids(active.data?._entities[0]?.loans)).toEqual([aliceB.id, aliceA.id]);
        const back = await userLoans(alice, { status: 'RETURNED' }, as(alice));
        expect(ids(back.data?._entities[0]?.loans)).toEqual([returned.id]);
      });

      it('lets staff see any user’s loans but not other patrons', async () => {
        const byStaff = await userLoans(alice, { first: 1 }, staff());
        expect(byStaff.errors).toBeUndefined();
        expect(ids(byStaff.data?._entities[0]?.loans)).toEqual([aliceB.id]);
        const byAdmin = await userLoans(bob, {}, as(randomUUID(), 'ADMIN'));
        expect(ids(byAdmin.data?._entities[0]?.loans)).toEqual([bobA.id]);

        const byBob = await userLoans(alice, {}, as(bob));
        expect(byBob.data?._entities[0] ?? null).toBeNull();
        expect(codes(byBob)).toEqual(['FORBIDDEN']);
        const anonymous = await userLoans(alice, {}, {});
        expect(codes(anonymous)).toEqual(['UNAUTHENTICATED']);
      });

      it('pages through a long history without repeats or gaps, ties broken by id', async () => {
        const expected = [...daveLoans]
          .sort((a, b) => b.borrowedAt.getTime() - a.borrowedAt.getTime() || (a.id < b.id ? 1 : -1))
          .map((l) => l.id);
        const seen: string[] = [];
        let after: string | null = null;
        let pages = 0;
        do {
          const res: GraphQLResponse<{ _entities: ({ loans: Page } | null)[] }> = await userLoans(dave, { first: 20, after }, as(dave));
          expect(res.errors).toBeUndefined();
          const page = res.data!._entities[0]!.loans;
          expect(page.totalCount).toBe(50);
          seen.push(...ids(page)!);
          after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
          pages += 1;
        } while (after);
        expect(pages).toBe(3);
        expect(seen).toEqual(expected);
      });

      it('answers an empty list for a user id that cannot exist', async () => {
        const res = await userLoans('nobody', {}, staff());
        expect(res.errors).toBeUndefined();
        expect(res.data?._entities[0]?.loans).toEqual({ totalCount: 0, edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
      });
    });

    describe('Query.loans', () => {
      it('is for library staff only', async () => {
        expect(codes(await allLoans({}, as(alice)))).toEqual(['FORBIDDEN']);
        expect(codes(await allLoans({}, {}))).toEqual(['UNAUTHENTICATED']);
        const res = await allLoans({}, staff());
        expect(res.errors).toBeUndefined();
        expect(res.data?.loans.totalCount).toBe(54);
        expect(res.data?.loans.edges).toHaveLength(20);
      });

      it('filters by user, book and status, all together', async () => {
        const byUser = await allLoans({ filter: { userId: alice } }, staff());
        expect(ids(byUser.data?.loans)).toEqual([aliceB.id, aliceA.id, returned.id]);
        const byBook = await allLoans({ filter: { bookId: bookA } }, staff());
        expect(ids(byBook.data?.loans)).toEqual([bobA.id, aliceA.id, returned.id]);
        const both = await allLoans({ filter: { bookId: bookA, userId: alice, status: 'ACTIVE' } }, staff());
        expect(ids(both.data?.loans)).toEqual([aliceA.id]);
        expect(both.data?.loans.totalCount).toBe(1);
        const back = await allLoans({ filter: { status: 'RETURNED' } }, staff());
        expect(ids(back.data?.loans)).toEqual([returned.id]);
      });

      it('refuses bad input with BAD_USER_INPUT', async () => {
        for (const variables of [
          { first: 101 },
          { first: 0 },
          { after: 'not a cursor' },
          { after: encodeCursor('books:TITLE', ['Dune', randomUUID()]) },
          { after: encodeCursor('loans', ['2026-01-01T00:00:00.000Z', 'not-a-uuid']) },
          { filter: { userId: 'alice' } },
          { filter: { bookId: '42' } },
        ]) {
          const res = await allLoans(variables, staff());
          expect(res.data).toBeNull();
          expect(codes(res)).toEqual(['BAD_USER_INPUT']);
          expect(res.errors?.[0]?.message).not.toMatch(/prisma|sql|postgres/i);
        }
      });
    });

    describe('Query.loanPolicies', () => {
      it('gives any signed-in user the default rules of every role', async () => {
        const res = await query<{ loanPolicies: Record<string, unknown>[] }>(
          '{ loanPolicies { role loanDays maxRenewals maxActiveLoans finePerOverdueDayCents maxFinePerLoanCents holdPickupDays maxBalanceCents } }',
          {},
          as(alice),
        );
        expect(res.errors).toBeUndefined();
        const defaults = {
          loanDays: 14,
          maxRenewals: 2,
          maxActiveLoans: 5,
          finePerOverdueDayCents: 25,
          maxFinePerLoanCents: 1000,
          holdPickupDays: 3,
          maxBalanceCents: 500,
        };
        expect(res.data?.loanPolicies).toEqual(['PATRON', 'LIBRARIAN', 'ADMIN'].map((role) => ({ role, ...defaults })));
      });

      it('refuses anonymous callers', async () => {
        expect(codes(await query('{ loanPolicies { role } }'))).toEqual(['UNAUTHENTICATED']);
      });
    });

    describe('User.loans over many users', () => {
      it('costs the same few statements for 60 users as for one, through _entities', async () => {
        const many = [alice, bob, dave, ...Array.from({ length: 57 }, () => randomUUID())];
        const run = async (users: string[]) => {
          const before = loans.database.db.stats.statements;
          const res = await query<{ _entities: { loans: Page }[] }>(
            `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { loans(first: 5) { ${PAGE_FIELDS} } } } }`,
            { reps: users.map((id) => ({ __typename: 'User', id })) },
            staff(),
          );
          expect(res.errors).toBeUndefined();
          return { pages: res.data!._entities.map((e) => e.loans), statements: loans.database.db.stats.statements - before };
        };
        const one = await run([alice]);
        const sixty = await run(many);
        expect(sixty.statements).toBe(one.statements);
        expect(one.statements).toBeLessThanOrEqual(3);
        expect(ids(sixty.pages[0])).toEqual([aliceB.id, aliceA.id, returned.id]);
        expect(sixty.pages[0]?.totalCount).toBe(3);
        expect(ids(sixty.pages[1])).toEqual([bobA.id]);
        expect(sixty.pages[2]?.totalCount).toBe(50);
        expect(sixty.pages[2]?.edges).toHaveLength(5);
        expect(sixty.pages[2]?.pageInfo.hasNextPage).toBe(true);
        expect(sixty.pages.slice(3).every((p) => p.totalCount === 0 && p.edges.length === 0)).toBe(true);
        // The batched first page and the single-user path agree on order and cursors.
        const single = await userLoans(dave, { first: 5 }, staff());
        expect(single.data?._entities[0]?.loans).toEqual(sixty.pages[2]);
      });
    });

    describe('Query.borrowings (internal)', () => {
      const borrowings = (pairs: { userId: string; bookId: string }[], headers: Record<string, string>) =>
        query<{ borrowings: boolean[] }>('query($pairs: [BorrowingPairInput!]!) { borrowings(pairs: $pairs) }', { pairs }, headers);
      const service = { [CALLER_HEADER]: serviceCredential('reviews') };

      it('answers, in order, whether each user ever borrowed each book, in one statement', async () => {
        const before = loans.database.db.stats.statements;
        const res = await borrowings(
          [
            { userId: alice, bookId: bookA }, // active and returned loans
            { userId: alice, bookId: bookB },
            { userId: bob, bookId: bookB }, // never
            { userId: bob, bookId: bookA },
            { userId: 'not-a-uuid', bookId: bookA },
            { userId: dave, bookId: daveLoans[7]!.bookId },
            { userId: dave, bookId: bookC },
          ],
          service,
        );
        expect(res.errors).toBeUndefined();
        expect(res.data?.borrowings).toEqual([true, true, false, true, false, true, false]);
        expect(loans.database.db.stats.statements - before).toBe(1);
      });

      it('is refused to people, staff included, and capped at 500 pairs', async () => {
        for (const headers of [{}, as(alice), staff()]) {
          expect(codes(await borrowings([{ userId: alice, bookId: bookA }], headers))).toEqual(['FORBIDDEN']);
        }
        const tooMany = Array.from({ length: 501 }, () => ({ userId: alice, bookId: bookA }));
        expect(codes(await borrowings(tooMany, service))).toEqual(['BAD_USER_INPUT']);
        const none = await borrowings([], service);
        expect(none.data?.borrowings).toEqual([]);
      });
    });

    describe('updateLoanPolicy', () => {
      const update = (role: string, input: Record<string, unknown>, headers: Record<string, string>) =>
        query<{ updateLoanPolicy: Record<string, unknown> }>(
          'mutation($role: Role!, $input: LoanPolicyInput!) { updateLoanPolicy(role: $role, input: $input) { role loanDays maxRenewals maxActiveLoans finePerOverdueDayCents } }',
          { role, input },
          headers,
        );
      const admin = () => as(randomUUID(), 'ADMIN');

      it('lets an admin change some fields of one role and keeps the rest', async () => {
        const res = await update('LIBRARIAN', { loanDays: 28, maxActiveLoans: 20 }, admin());
        expect(res.errors).toBeUndefined();
        expect(res.data?.updateLoanPolicy).toEqual({
          role: 'LIBRARIAN',
          loanDays: 28,
          maxRenewals: 2,
          maxActiveLoans: 20,
          finePerOverdueDayCents: 25,
        });
        const all = await query<{ loanPolicies: { role: string; loanDays: number }[] }>(
          '{ loanPolicies { role loanDays } }',
          {},
          as(alice),
        );
        expect(all.data?.loanPolicies).toEqual([
          { role: 'PATRON', loanDays: 14 },
          { role: 'LIBRARIAN', loanDays: 28 },
          { role: 'ADMIN', loanDays: 14 },
        ]);
        await update('LIBRARIAN', { loanDays: 14, maxActiveLoans: 5 }, admin());
      });

      it('refuses values out of range, an empty change, and anyone but an admin', async () => {
        for (const input of [
          { loanDays: 0 },
          { loanDays: 366 },
          { maxRenewals: -1 },
          { maxActiveLoans: 101 },
          { finePerOverdueDayCents: -5 },
          { maxFinePerLoanCents: 1_000_001 },
          { holdPickupDays: 0 },
          { maxBalanceCents: -1 },
          {},
          { loanDays: null },
        ]) {
          const res = await update('PATRON', input, admin());
          expect([input, codes(res)]).toEqual([input, ['BAD_USER_INPUT']]);
        }
        const bad = await update('PATRON', { loanDays: 0 }, admin());
        expect(bad.errors?.[0]?.message).toBe('Loan days ("loanDays") must be a whole number from 1 to 365; got 0.');
        expect(bad.errors?.[0]?.extensions?.field).toBe('loanDays');
        // Above the largest single fine payments accepts (SHELFWISE_MAX_FINE_CENTS, 100,000 by default),
        // such a loan's fine could never be charged.
        const aboveFines = await update('PATRON', { maxFinePerLoanCents: 100_001 }, admin());
        expect(codes(aboveFines)).toEqual(['BAD_USER_INPUT']);
        expect(aboveFines.errors?.[0]?.message).toBe(
          'Maximum fine per loan (cents) ("maxFinePerLoanCents") must be a whole number from 0 to 100000 ' +
            '(no single fine may be larger: SHELFWISE_MAX_FINE_CENTS, set by the operator); got 100001.',
        );
        expect(codes(await update('PATRON', { loanDays: 7 }, staff()))).toEqual(['FORBIDDEN']);
        expect(codes(await update('PATRON', { loanDays: 7 }, as(alice)))).toEqual(['FORBIDDEN']);
        expect(codes(await update('PATRON', { loanDays: 7 }, {}))).toEqual(['UNAUTHENTICATED']);
        const unchanged = await query<{ loanPolicies: { loanDays: number }[] }>('{ loanPolicies { loanDays } }', {}, as(alice));
        expect(unchanged.data?.loanPolicies.map((p) => p.loanDays)).toEqual([14, 14, 14]);
      });
    });

    describe('Loan.fineCents', () => {
      it('is 0 on time, grows per full overdue day and stops at the cap; a returned loan keeps what it was charged', async () => {
        const late = await newLoan(randomUUID(), bookA, daysFromNow(-20), new Date(clock.now().getTime() - 3 * DAY * 1000 - HOUR));
        const veryLate = await newLoan(randomUUID(), bookA, daysFromNow(-200), daysFromNow(-100));
        const charged = await loans.database.prisma.loan.update({
          where: { id: (await newLoan(randomUUID(), bookA, daysFromNow(-30), daysFromNow(-16))).id },
          data: {
            status: 'RETURNED',
            returnedAt: daysFromNow(-10),
            openBookId: null,
            fineCents: 150,
            checkedInAt: daysFromNow(-10),
            fineSettledAt: daysFromNow(-10),
          },
        });
        const res = await entities([aliceA.id, late.id, veryLate.id, charged.id], staff());
        expect(res.errors).toBeUndefined();
        const fines = await query<{ _entities: { fineCents: number }[] }>(
          'query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Loan { fineCents } } }',
          { reps: [aliceA.id, late.id, veryLate.id, charged.id].map((id) => ({ __typename: 'Loan', id })) },
          staff(),
        );
        expect(fines.errors).toBeUndefined();
        // 3 full days × 25; 100 days × 25 capped at 1000; the returned loan's recorded 150.
        expect(fines.data?._entities.map((l) => l.fineCents)).toEqual([0, 75, 1000, 150]);
        await loans.database.prisma.loan.deleteMany({ where: { id: { in: [late.id, veryLate.id, charged.id] } } });
      });
    });

    // Moves the shared test clock forward, so it runs last in this suite.
    describe('overdue', () => {
      it('follows the service clock, in the field and in the filter', async () => {
        const overdueNow = await allLoans({ filter: { overdue: true } }, staff());
        expect(overdueNow.data?.loans.totalCount).toBe(0);
        const notOverdue = await allLoans({ filter: { overdue: false, userId: alice } }, staff());
        // a returned loan past its due date is not overdue
        expect(ids(notOverdue.data?.loans)).toEqual([aliceB.id, aliceA.id, returned.id]);

        clock.advance(2 * DAY);

        const overdue = await allLoans({ filter: { overdue: true } }, staff());
        expect(overdue.errors).toBeUndefined();
        expect(ids(overdue.data?.loans)).toEqual([aliceB.id]);
        expect(overdue.data?.loans.edges[0]?.node.overdue).toBe(true);
        const rest = await allLoans({ filter: { overdue: false, userId: alice } }, staff());
        expect(ids(rest.data?.loans)).toEqual([aliceA.id, returned.id]);
        expect(rest.data?.loans.edges.map((e) => e.node.overdue)).toEqual([false, false]);
        const overdueActive = await allLoans({ filter: { overdue: true, status: 'RETURNED' } }, staff());
        expect(overdueActive.data?.loans.totalCount).toBe(0);
        const entity = await entities([aliceB.id], as(alice));
        expect(entity.data?._entities[0]?.overdue).toBe(true);
      });
    });
  });
}

/**
 * Shared pieces of the circulation tests through the router (circulation.test.ts on PGlite,
 * circulation.postgres.test.ts on real Postgres): people with live sessions, books with copies, the
 * operations, and the cross-service invariant checked straight in each service's own database.
 */
import { randomUUID } from 'node:crypto';
import { issueAccessToken, type Role } from '@shelfwise/kit';
import { graphql, type GraphQLResponse } from '@shelfwise/testkit';
import type { Platform } from '../src/platform.js';

export const LOAN_FIELDS =
  'id status dueAt borrowedAt returnedAt renewalCount overdue fineCents user { id } book { id } copy { id barcode status }';

export interface LoanView {
  id: string;
  status: 'ACTIVE' | 'RETURNED';
  dueAt: string;
  borrowedAt: string;
  returnedAt: string | null;
  renewalCount: number;
  overdue: boolean;
  fineCents: number;
  user: { id: string };
  book: { id: string };
  copy: { id: string; barcode: string; status: string };
}

export const codes = (res: GraphQLResponse<unknown>) => (res.errors ?? []).map((e) => e.extensions?.code);

/** A person of the platform: created in the users service, signed in with a fresh session per request. */
export interface Person {
  id: string;
  role: Role;
}

export class Circulation {
  constructor(readonly platform: Platform) {}

  get url(): string {
    return this.platform.router.url;
  }

  async person(role: Role = 'PATRON'): Promise<Person> {
    const tag = randomUUID().slice(0, 8);
    const user = await this.platform.subgraphs.users.users.create({ email: `${tag}@example.org`, name: `Reader ${tag}`, role });
    return { id: user.id, role };
  }

  /**
   * Bearer headers with a token issued now (on the test clock), so tests that move the clock by days
   * never send an expired one.
   */
  async as(who: Person): Promise<Record<string, string>> {
    const now = this.platform.clock.now();
    const { session } = await this.platform.auth.sessions.create({ userId: who.id, role: who.role }, now);
    const { token } = await issueAccessToken(this.platform.auth.keys, { userId: who.id, role: who.role, sessionId: session.id }, now);
    return { authorization: `Bearer ${token}` };
  }

  async call<T>(who: Person | null, query: string, variables: Record<string, unknown> = {}): Promise<GraphQLResponse<T>> {
    return graphql<T>(this.url, query, variables, who ? await this.as(who) : {});
  }

  async book(copies: number): Promise<{ id: string; barcodes: string[] }> {
    const n = String(Math.floor(Math.random() * 1e9)).padStart(9, '0');
    const book = await this.platform.subgraphs.books.books.create({
      isbn: `978${n}`,
      title: `Circulating ${n}`,
      authors: ['Test Author'],
      genres: ['Fiction'],
      copies,
    });
    const rows = await this.platform.subgraphs.books.database.prisma.copy.findMany({
      where: { bookId: book.id },
      orderBy: { barcode: 'asc' },
    });
    return { id: book.id, barcodes: rows.map((c) => c.barcode) };
  }

  borrow(who: Person, bookId: string) {
    return this.call<{ borrowBook: LoanView }>(who, `mutation($id: ID!) { borrowBook(bookId: $id) { ${LOAN_FIELDS} } }`, { id: bookId });
  }

  checkOut(who: Person, barcode: string, userId: string) {
    return this.call<{ checkOutCopy: LoanView }>(
      who,
      `mutation($b: String!, $u: ID!) { checkOutCopy(barcode: $b, userId: $u) { ${LOAN_FIELDS} } }`,
      { b: barcode, u: userId },
    );
  }

  returnLoan(who: Person, loanId: string) {
    return this.call<{ returnLoan: LoanView }>(who, `mutation($id: ID!) { returnLoan(loanId: $id) { ${LOAN_FIELDS} } }`, { id: loanId });
  }

  checkIn(who: Person, barcode: string) {
    return this.call<{ checkInCopy: LoanView }>(who, `mutation($b: String!) { checkInCopy(barcode: $b) { ${LOAN_FIELDS} } }`, {
      b: barcode,
    });
  }

  renew(who: Person, loanId: string) {
    return this.call<{ renewLoan: LoanView }>(who, `mutation($id: ID!) { renewLoan(loanId: $id) { ${LOAN_FIELDS} } }`, { id: loanId });
  }

  updatePolicy(admin: Person, role: Role, input: Record<string, number>) {
    return this.call<{ updateLoanPolicy: Record<string, number> }>(
      admin,
      'mutation($r: Role!, $i: LoanPolicyInput!) { updateLoanPolicy(role: $r, input: $i) { role loanDays maxActiveLoans maxRenewals } }',
      { r: role, i: input },
    );
  }

  async availableCopies(bookId: string): Promise<number> {
    const res = await graphql<{ book: { availableCopies: number } }>(this.url, 'query($id: ID!) { book(id: $id) { availableCopies } }', {
      id: bookId,
    });
    return res.data!.book.availableCopies;
  }

  /** Every loan row of a user in the loans database, saga rows (PENDING, CANCELLED) included. */
  sagaRows(userId: string) {
    return this.platform.subgraphs.loans.database.prisma.loan.findMany({ where: { userId } });
  }

  /**
   * The invariant of the circulation issue, read from both services' own databases: every ACTIVE loan
   * holds exactly one copy that books shows ON_LOAN to that loan, every ON_LOAN copy belongs to an ACTIVE
   * loan, no borrow is left PENDING, and for every book the copies add up. Returns the problems found.
   */
  async invariantProblems(bookIds: string[]): Promise<string[]> {
    const problems: string[] = [];
    const copies = await this.platform.subgraphs.books.database.prisma.copy.findMany({ where: { bookId: { in: bookIds } } });
    const loans = await this.platform.subgraphs.loans.database.prisma.loan.findMany({
      where: { bookId: { in: bookIds }, status: { in: ['ACTIVE', 'PENDING'] } },
    });
    const copyById = new Map(copies.map((c) => [c.id, c]));
    for (const loan of loans) {
      if (loan.status === 'PENDING') problems.push(`loan ${loan.id} is still PENDING`);
      const copy = loan.copyId ? copyById.get(loan.copyId) : undefined;
      if (loan.status === 'ACTIVE' && (!copy || copy.status !== 'ON_LOAN' || copy.loanId !== loan.id)) {
        problems.push(`active loan ${loan.id} does not hold its copy (${copy ? `${copy.status}, loan ${copy.loanId}` : 'none'})`);
      }
    }
    const active = new Set(loans.filter((l) => l.status === 'ACTIVE').map((l) => l.id));
    for (const copy of copies) {
      if (copy.status === 'ON_LOAN' && (!copy.loanId || !active.has(copy.loanId)))
        problems.push(`copy ${copy.barcode} is ON_LOAN to ${copy.loanId}, which is not an active loan`);
    }
    // Availability as the catalogue reports it agrees with the copies: total = available + on loan +
    // on the hold shelf + lost (withdrawn copies are not counted).
    const res = await graphql<{ _entities: { id: string; totalCopies: number; availableCopies: number }[] }>(
      this.platform.subgraphs.books.url,
      'query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Book { id totalCopies availableCopies } } }',
      { reps: bookIds.map((id) => ({ __typename: 'Book', id })) },
    );
    for (const book of res.data?._entities ?? []) {
      const own = copies.filter((c) => c.bookId === book.id);
      const by = (s: string) => own.filter((c) => c.status === s).length;
      if (book.availableCopies !== by('AVAILABLE') || book.availableCopies < 0)
        problems.push(`book ${book.id}: availableCopies ${book.availableCopies}, ${by('AVAILABLE')} copies on the shelf`);
      if (book.totalCopies !== by('AVAILABLE') + by('ON_LOAN') + by('ON_HOLD_SHELF') + by('LOST'))
        problems.push(`book ${book.id}: totalCopies ${book.totalCopies} is not available + on loan + on hold shelf + lost`);
    }
    return problems;
  }
}

import { randomUUID } from 'node:crypto';
import {
  BOOK_AVAILABILITY_CHANNEL,
  CALLER_HEADER,
  callerCredential,
  type InMemoryBus,
  isBookAvailabilityEvent,
  serviceCredential,
  type BookAvailabilityEvent,
  type Role,
} from '@shelfwise/kit';
import { graphql, type GraphQLResponse } from '@shelfwise/testkit';
import type { BooksHandle } from '../src/server.js';

/** Headers for a call as a signed-in user, as the router would send it. */
export function asUser(role: Role, userId: string = randomUUID()): Record<string, string> {
  return { [CALLER_HEADER]: callerCredential({ userId, role }) };
}

export const asLibrarian = () => asUser('LIBRARIAN');
export const asPatron = () => asUser('PATRON');
/** An internal call from the loans service (service credential). */
export const asLoans = () => ({ [CALLER_HEADER]: serviceCredential('loans') });

export const COPY_FIELDS = 'id barcode status book { id totalCopies availableCopies }';
export const BOOK_FIELDS =
  'id isbn title authors genres publishedYear language description totalCopies availableCopies copies { id barcode status }';

export interface CopyResult {
  id: string;
  barcode: string;
  status: string;
  book: { id: string; totalCopies: number; availableCopies: number };
}
export interface BookResult {
  id: string;
  isbn: string;
  title: string;
  authors: string[];
  genres: string[];
  publishedYear: number | null;
  language: string;
  description: string | null;
  totalCopies: number;
  availableCopies: number;
  copies: { id: string; barcode: string; status: string }[];
}

/** The first error's code, or undefined. */
export const codeOf = (res: GraphQLResponse<unknown>) => res.errors?.[0]?.extensions?.code as string | undefined;

/** Calls to one running books subgraph. */
export class BooksClient {
  constructor(readonly handle: BooksHandle) {}

  call<T>(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    return graphql<T>(this.handle.url, query, variables, headers);
  }

  /** Adds a book as a librarian and returns it (fails the test on an error). */
  async addBook(input: Record<string, unknown>): Promise<BookResult> {
    const res = await this.call<{ addBook: BookResult }>(
      `mutation ($input: AddBookInput!) { addBook(input: $input) { ${BOOK_FIELDS} } }`,
      { input },
      asLibrarian(),
    );
    if (res.errors) throw new Error(`addBook failed: ${JSON.stringify(res.errors)}`);
    return res.data!.addBook;
  }

  allocateForLoan(input: Record<string, unknown>, headers = asLoans()) {
    return this.call<{ allocateCopyForLoan: CopyResult }>(
      `mutation ($input: AllocateForLoanInput!) { allocateCopyForLoan(input: $input) { ${COPY_FIELDS} } }`,
      { input },
      headers,
    );
  }

  cancelLoan(loanId: string) {
    return this.call<{ cancelLoanAllocation: boolean }>(
      `mutation ($id: ID!) { cancelLoanAllocation(loanId: $id) }`,
      { id: loanId },
      asLoans(),
    );
  }

  checkIn(loanId: string, handToReservationId?: string) {
    return this.call<{ checkInLoanCopy: CopyResult }>(
      `mutation ($id: ID!, $to: ID) { checkInLoanCopy(loanId: $id, handToReservationId: $to) { ${COPY_FIELDS} } }`,
      { id: loanId, to: handToReservationId ?? null },
      asLoans(),
    );
  }

  allocateForHold(reservationId: string, bookId: string) {
    return this.call<{ allocateCopyForHold: CopyResult | null }>(
      `mutation ($r: ID!, $b: ID!) { allocateCopyForHold(reservationId: $r, bookId: $b) { ${COPY_FIELDS} } }`,
      { r: reservationId, b: bookId },
      asLoans(),
    );
  }

  releaseHold(reservationId: string, handToReservationId?: string) {
    return this.call<{ releaseHoldCopy: CopyResult | null }>(
      `mutation ($r: ID!, $to: ID) { releaseHoldCopy(reservationId: $r, handToReservationId: $to) { ${COPY_FIELDS} } }`,
      { r: reservationId, to: handToReservationId ?? null },
      asLoans(),
    );
  }

  librarian<T>(query: string, variables: Record<string, unknown> = {}) {
    return this.call<T>(query, variables, asLibrarian());
  }

  /** A book's counts as the API answers them, and as the copies' statuses say: they must agree. */
  async counts(bookId: string): Promise<{ api: [number, number]; statuses: [number, number]; byStatus: Record<string, number> }> {
    const res = await this.call<{ _entities: [{ totalCopies: number; availableCopies: number }] }>(
      `query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Book { totalCopies availableCopies } } }`,
      { reps: [{ __typename: 'Book', id: bookId }] },
    );
    const book = res.data!._entities[0];
    const copies = await this.handle.database.prisma.copy.findMany({ where: { bookId } });
    const byStatus: Record<string, number> = {};
    for (const c of copies) byStatus[c.status] = (byStatus[c.status] ?? 0) + 1;
    const total = copies.filter((c) => c.status !== 'WITHDRAWN').length;
    const available = copies.filter((c) => c.status === 'AVAILABLE').length;
    return { api: [book.totalCopies, book.availableCopies], statuses: [total, available], byStatus };
  }

  /** Asserts the API's counts equal the copies' statuses and returns them as [total, available]. */
  async expectCountsAgree(bookId: string): Promise<[number, number]> {
    const { api, statuses } = await this.counts(bookId);
    expect(api).toEqual(statuses);
    return api;
  }
}

/** Collects availability events published on a bus. */
export async function recordAvailability(
  bus: InMemoryBus,
): Promise<{ events: BookAvailabilityEvent[]; forBook(id: string): BookAvailabilityEvent[] }> {
  const events: BookAvailabilityEvent[] = [];
  await bus.subscribe(BOOK_AVAILABILITY_CHANNEL, (message) => {
    if (isBookAvailabilityEvent(message)) events.push(message);
  });
  return { events, forBook: (id) => events.filter((e) => e.bookId === id) };
}

let isbnCounter = 0;

/** A fresh valid ISBN-13 for each call (978 + a counter + the check digit). */
export function nextIsbn(seed = 0): string {
  isbnCounter += 1;
  const body = `978${String(seed * 100_000 + isbnCounter).padStart(9, '0')}`;
  let sum = 0;
  for (let i = 0; i < 12; i += 1) sum += Number(body[i]) * (i % 2 === 0 ? 1 : 3);
  return `${body}${(10 - (sum % 10)) % 10}`;
}

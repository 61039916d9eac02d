/**
 * Shared pieces of the hold-queue tests through the router (holds.test.ts on PGlite, holds.postgres.test.ts
 * on real Postgres): patrons, lending and returning copies the way loans does (books' and reservations'
 * internal operations with a service credential), the events on the bus, and the hold-shelf invariant read
 * straight from both services' databases.
 */
import { randomUUID } from 'node:crypto';
import { CALLER_HEADER, DOMAIN_EVENTS_CHANNEL, isDomainEvent, serviceCredential, type DomainEvent } from '@shelfwise/kit';
import { graphql, type GraphQLResponse } from '@shelfwise/testkit';
import type { Platform } from '../src/platform.js';
import { Circulation, type Person } from './circulationKit.js';

export const HOLD_FIELDS = 'id status position createdAt readyAt pickupBy user { id } book { id }';

export interface HoldView {
  id: string;
  status: 'WAITING' | 'READY' | 'FULFILLED' | 'CANCELLED' | 'EXPIRED';
  position: number | null;
  createdAt: string;
  readyAt: string | null;
  pickupBy: string | null;
  user: { id: string };
  book: { id: string };
}

export class Holds extends Circulation {
  readonly events: DomainEvent[] = [];
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(platform: Platform) {
    super(platform);
  }

  /** Starts collecting the domain events published on the platform's bus. */
  async listen(): Promise<void> {
    this.unsubscribe = await this.platform.bus.subscribe(DOMAIN_EVENTS_CHANNEL, (message) => {
      if (isDomainEvent(message)) this.events.push(message);
    });
  }

  async close(): Promise<void> {
    await this.unsubscribe?.();
  }

  reserve(who: Person | null, bookId: string) {
    return this.call<{ reserveBook: HoldView }>(who, `mutation($id: ID!) { reserveBook(bookId: $id) { ${HOLD_FIELDS} } }`, { id: bookId });
  }

  cancel(who: Person, id: string) {
    return this.call<{ cancelReservation: HoldView }>(who, `mutation($id: ID!) { cancelReservation(id: $id) { ${HOLD_FIELDS} } }`, { id });
  }

  /** The signed-in person's own reservations, newest first. */
  async mine(who: Person, status?: string): Promise<HoldView[]> {
    const res = await this.call<{ me: { reservations: { edges: { node: HoldView }[] } } }>(
      who,
      `query($s: ReservationStatus) { me { reservations(status: $s, first: 100) { edges { node { ${HOLD_FIELDS} } } } } }`,
      { s: status ?? null },
    );
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data!.me.reservations.edges.map((e) => e.node);
  }

  /** Each hold as its own patron sees it, by id. */
  async holdsOf(pairs: [Person, string][]): Promise<HoldView[]> {
    const out: HoldView[] = [];
    for (const [who, id] of pairs) {
      const hold = (await this.mine(who)).find((h) => h.id === id);
      if (!hold) throw new Error(`hold ${id} not found for ${who.id}`);
      out.push(hold);
    }
    return out;
  }

  /** Lends a copy of the book for a fresh loan id, as loans' borrow saga does (books' internal operation). */
  async lend(bookId: string): Promise<string> {
    const loanId = randomUUID();
    const res = await graphql<{ allocateCopyForLoan: { id: string } }>(
      this.platform.subgraphs.books.url,
      'mutation($l: ID!, $u: ID!, $b: ID) { allocateCopyForLoan(input: { loanId: $l, userId: $u, bookId: $b }) { id } }',
      { l: loanId, u: randomUUID(), b: bookId },
      { [CALLER_HEADER]: serviceCredential('loans') },
    );
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return loanId;
  }

  /** The loan's copy comes back, routed by reservations as loans' return saga asks it to. */
  routeReturn(loanId: string, bookId: string, pickupDays?: number) {
    return this.internal<{ routeReturnedCopy: { copyId: string; status: string; reservationId: string | null } }>(
      'mutation($l: ID!, $b: ID!, $d: Int) { routeReturnedCopy(loanId: $l, bookId: $b, pickupDays: $d) { copyId status reservationId } }',
      { l: loanId, b: bookId, d: pickupDays ?? null },
    );
  }

  internal<T>(query: string, variables: Record<string, unknown>): Promise<GraphQLResponse<T>> {
    return graphql<T>(this.platform.subgraphs.reservations.url, query, variables, { [CALLER_HEADER]: serviceCredential('loans') });
  }

  /** Copies of the book by status, from books' database. */
  async copies(bookId: string) {
    return this.platform.subgraphs.books.database.prisma.copy.findMany({ where: { bookId }, orderBy: { barcode: 'asc' } });
  }

  /**
   * The hold-shelf invariant across both databases: every copy ON_HOLD_SHELF is the copy of a READY hold
   * for it, every READY hold's copy is ON_HOLD_SHELF for it, and no handoff is left unfinished.
   */
  async shelfProblems(bookIds: string[]): Promise<string[]> {
    const problems: string[] = [];
    const copies = await this.platform.subgraphs.books.database.prisma.copy.findMany({ where: { bookId: { in: bookIds } } });
    const prisma = this.platform.subgraphs.reservations.database.prisma;
    const ready = await prisma.reservation.findMany({ where: { bookId: { in: bookIds }, status: 'READY' } });
    const readyById = new Map(ready.map((r) => [r.id, r]));
    for (const copy of copies.filter((c) => c.status === 'ON_HOLD_SHELF')) {
      const hold = copy.reservationId ? readyById.get(copy.reservationId) : undefined;
      if (!hold || hold.copyId !== copy.id)
        problems.push(`copy ${copy.barcode} is on the hold shelf for ${copy.reservationId}, not a READY hold`);
    }
    const byId = new Map(copies.map((c) => [c.id, c]));
    for (const hold of ready) {
      const copy = hold.copyId ? byId.get(hold.copyId) : undefined;
      if (!copy || copy.status !== 'ON_HOLD_SHELF' || copy.reservationId !== hold.id)
        problems.push(`READY hold ${hold.id} does not have its copy (${copy ? `${copy.status} for ${copy.reservationId}` : 'none'})`);
    }
    const pending = await prisma.handoff.count({ where: { bookId: { in: bookIds }, state: 'PENDING' } });
    if (pending > 0) problems.push(`${pending} handoff(s) unfinished`);
    return problems;
  }
}

import { randomUUID } from 'node:crypto';
import { callerCredential, CALLER_HEADER, type Role } from '@shelfwise/kit';
import { graphql, type GraphQLResponse } from '@shelfwise/testkit';
import { start, type ReservationsHandle } from '../src/server.js';

/** Copy.heldFor: the READY hold a copy waits on the hold shelf for — what the circulation desk shows at check-in. */
describe('Copy.heldFor (PGlite)', () => {
  let handle: ReservationsHandle;
  const librarian = randomUUID();
  const patron = randomUUID();
  const other = randomUUID();
  const book = randomUUID();
  const shelfCopy = randomUUID(); // on the hold shelf for patron's READY hold
  const collectedCopy = randomUUID(); // its hold was FULFILLED: no longer held for anyone
  const freeCopy = randomUUID(); // never set aside
  let readyId: string;

  const as = (userId: string, role: Role = 'PATRON') => ({ [CALLER_HEADER]: callerCredential({ userId, role }) });
  const stats = () => handle.database.db.stats.statements;
  type CopyNode = {
    id: string;
    heldFor?: { id: string; status: string; pickupBy: string | null; user: { id: string }; book: { id: string } } | null;
  };
  const copies = (ids: string[], headers: Record<string, string>, fields = 'id heldFor { id status pickupBy user { id } book { id } }') =>
    graphql<{ _entities: (CopyNode | null)[] }>(
      handle.url,
      `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on Copy { ${fields} } } }`,
      { reps: ids.map((id) => ({ __typename: 'Copy', id })) },
      headers,
    );
  const codes = (res: GraphQLResponse<unknown>) => res.errors?.map((e) => e.extensions?.code);

  beforeAll(async () => {
    handle = await start({ holds: { scanIntervalMs: 0, reconcileIntervalMs: 0 } });
    const prisma = handle.database.prisma;
    const ready = await handle.reservations.create({ userId: patron, bookId: book });
    readyId = (
      await prisma.reservation.update({
        where: { id: ready.id },
        data: {
          status: 'READY',
          copyId: shelfCopy,
          readyAt: new Date('2026-11-02T09:00:00.000Z'),
          pickupBy: new Date('2026-11-05T09:00:00.000Z'),
        },
      })
    ).id;
    const done = await handle.reservations.create({ userId: other, bookId: book });
    await prisma.reservation.update({ where: { id: done.id }, data: { status: 'FULFILLED', copyId: collectedCopy } });
    await handle.reservations.create({ userId: randomUUID(), bookId: book }); // WAITING, no copy
  });
  afterAll(async () => {
    await handle?.stop();
  });

  it('names the READY hold of each copy for staff, null for the rest, in one statement for many copies', async () => {
    const ids = [shelfCopy, collectedCopy, freeCopy, shelfCopy.toUpperCase(), ...Array.from({ length: 46 }, () => randomUUID())];
    const before = stats();
    const res = await copies(ids, as(librarian, 'LIBRARIAN'));
    expect(res.errors).toBeUndefined();
    expect(stats() - before).toBe(1);
    const held = res.data!._entities.map((c) => c?.heldFor ?? null);
    expect(held[0]).toEqual({
      id: readyId,
      status: 'READY',
      pickupBy: '2026-11-05T09:00:00.000Z',
      user: { id: patron },
      book: { id: book },
    });
    expect(held[1]).toBeNull();
    expect(held[2]).toBeNull();
    expect(held[3]?.id).toBe(readyId);
    expect(held.slice(4).every((h) => h === null)).toBe(true);

    const admin = await copies([shelfCopy], as(randomUUID(), 'ADMIN'));
    expect(admin.data?._entities[0]?.heldFor?.id).toBe(readyId);
  });

  it('answers null for an id that cannot be a copy, without a query', async () => {
    const before = stats();
    const res = await copies(['not-a-uuid'], as(librarian, 'LIBRARIAN'));
    expect(res.errors).toBeUndefined();
    expect(res.data?._entities).toEqual([{ id: 'not-a-uuid', heldFor: null }]);
    expect(stats() - before).toBe(0);
  });

  it('is for library staff only: the patron themselves and others are refused, the copy reference stays public', async () => {
    for (const [headers, code] of [
      [as(patron), 'FORBIDDEN'],
      [as(other), 'FORBIDDEN'],
      [{}, 'UNAUTHENTICATED'],
    ] as const) {
      const res = await copies([shelfCopy], headers);
      expect(res.data?._entities[0]?.heldFor ?? null).toBeNull();
      expect(codes(res)).toEqual([code]);
      expect(res.errors?.[0]?.path).toEqual(['_entities', 0, 'heldFor']);
    }
    const idOnly = await copies([shelfCopy], {}, 'id');
    expect(idOnly.errors).toBeUndefined();
    expect(idOnly.data?._entities).toEqual([{ id: shelfCopy }]);
  });
});

import { callerCredential, encodeCursor, ServiceClock, CALLER_HEADER, type Role, type ServiceOptions } from '@shelfwise/kit';
import { dropTestDatabase, freshDatabaseName, graphql, hasPostgres, TEST_DATABASE_URL } from '@shelfwise/testkit';
import { start, type UsersHandle } from '../src/server.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;

const as = (userId: string, role: Role) => ({ [CALLER_HEADER]: callerCredential({ userId, role }) });

interface UserFields {
  id: string;
  email: string | null;
  name: string;
  role: Role;
  createdAt: string;
}
interface UsersPage {
  users: {
    edges: { cursor: string; node: UserFields }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    totalCount: number;
  };
}

/** A test clock standing still at `start` (plus whatever it is advanced by), so answers are exact. */
class FixedClock extends ServiceClock {
  constructor(private readonly start: Date) {
    super(true);
  }

  override now(): Date {
    return new Date(this.start.getTime() + this.offset);
  }
}

const USER_FIELDS = 'id email name role createdAt';
const USERS_QUERY = `query($search: String, $first: Int, $after: String) {
  users(search: $search, first: $first, after: $after) { edges { cursor node { ${USER_FIELDS} } } pageInfo { hasNextPage endCursor } totalCount }
}`;

/** The same behaviour on the embedded PGlite and on a real PostgreSQL server. */
function userSuite(options: () => ServiceOptions) {
  let users: UsersHandle;
  let clock: FixedClock;
  let patron: UserFields;
  let other: UserFields;
  let librarian: UserFields;
  let admin: UserFields;
  /** Every user, in the order `users` lists them. */
  let all: UserFields[];

  const statements = () => users.database.db.stats.statements;

  beforeAll(async () => {
    clock = new FixedClock(new Date('2030-05-01T09:00:00.000Z'));
    users = await start({ ...options(), clock });
    const created = [];
    created.push(await users.users.create({ email: '  Ada.Lovelace@Example.ORG ', name: 'Ada Lovelace' }));
    created.push(await users.users.create({ email: 'grace@example.org', name: 'Grace Hopper' }));
    created.push(await users.users.create({ email: 'desk@library.example', name: 'Dora Desk', role: 'LIBRARIAN' }));
    created.push(await users.users.create({ email: 'root@library.example', name: 'Alan Admin', role: 'ADMIN' }));
    for (let i = 0; i < 46; i++) created.push(await users.users.create({ email: `patron${i}@example.org`, name: `Patron ${i}` }));
    // Half of them share one timestamp, so pagination has to break ties by id.
    const tie = new Date('2026-01-01T00:00:00.000Z');
    await users.database.prisma.user.updateMany({
      where: { id: { in: created.slice(10, 35).map((u) => u.id) } },
      data: { createdAt: tie },
    });
    const rows = await users.database.prisma.user.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    all = rows.map((u) => ({ id: u.id, email: u.email, name: u.name, role: u.role, createdAt: u.createdAt.toISOString() }));
    const byName = (name: string) => all.find((u) => u.name === name)!;
    [patron, other, librarian, admin] = [byName('Ada Lovelace'), byName('Grace Hopper'), byName('Dora Desk'), byName('Alan Admin')];
  });
  afterAll(() => users.stop());

  it('stores emails trimmed and lower-case and refuses a second account for the same email', async () => {
    expect(patron.email).toBe('ada.lovelace@example.org');
    await expect(users.users.create({ email: 'ADA.LOVELACE@example.org', name: 'Copy' })).rejects.toMatchObject({
      extensions: { code: 'CONFLICT' },
    });
    await expect(users.users.create({ email: 'not an email', name: 'X' })).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
    });
    await expect(users.users.create({ email: 'x@example.org', name: '  ' })).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(await users.users.count()).toBe(50);
  });

  describe('_entities', () => {
    const ENTITIES = `query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { id name role createdAt email } } }`;

    it('resolves N users in one statement, whatever N is', async () => {
      const one = statements();
      const single = await graphql<{ _entities: (UserFields | null)[] }>(users.url, ENTITIES, {
        reps: [{ __typename: 'User', id: patron.id }],
      });
      expect(single.errors).toBeUndefined();
      expect(statements() - one).toBe(1);

      const reps = [
        ...all.map((u) => ({ __typename: 'User', id: u.id })),
        { __typename: 'User', id: 'not-a-uuid' },
        { __typename: 'User', id: '00000000-0000-4000-8000-000000000000' },
      ];
      const fifty = statements();
      const res = await graphql<{ _entities: (UserFields | null)[] }>(users.url, ENTITIES, { reps });
      expect(res.errors).toBeUndefined();
      expect(statements() - fifty).toBe(1);
      expect(res.data?._entities.slice(0, 50).map((u) => u?.name)).toEqual(all.map((u) => u.name));
      expect(res.data?._entities.slice(50)).toEqual([null, null]);
    });

    it('shows name, role and createdAt to anyone but the email only to the user and staff', async () => {
      const reps = [{ __typename: 'User', id: patron.id }];
      const anonymous = await graphql<{ _entities: UserFields[] }>(users.url, ENTITIES, { reps });
      expect(anonymous.data?._entities[0]).toEqual({ ...patron, email: null });
      const stranger = await graphql<{ _entities: UserFields[] }>(users.url, ENTITIES, { reps }, as(other.id, 'PATRON'));
      expect(stranger.data?._entities[0]?.email).toBeNull();
      const self = await graphql<{ _entities: UserFields[] }>(users.url, ENTITIES, { reps }, as(patron.id, 'PATRON'));
      expect(self.data?._entities[0]?.email).toBe('ada.lovelace@example.org');
      const staff = await graphql<{ _entities: UserFields[] }>(users.url, ENTITIES, { reps }, as(librarian.id, 'LIBRARIAN'));
      expect(staff.data?._entities[0]?.email).toBe('ada.lovelace@example.org');
    });
  });

  describe('me', () => {
    it('is null when nobody is signed in', async () => {
      const res = await graphql<{ me: UserFields | null }>(users.url, `{ me { ${USER_FIELDS} } }`);
      expect(res.errors).toBeUndefined();
      expect(res.data?.me).toBeNull();
    });

    it('is the signed-in user, with their email', async () => {
      const res = await graphql<{ me: UserFields | null }>(users.url, `{ me { ${USER_FIELDS} } }`, {}, as(patron.id, 'PATRON'));
      expect(res.errors).toBeUndefined();
      expect(res.data?.me).toEqual(patron);
    });
  });

  describe('user', () => {
    const USER = `query($id: ID!) { user(id: $id) { ${USER_FIELDS} } }`;

    it('needs a signed-in user', async () => {
      const res = await graphql(users.url, USER, { id: patron.id });
      expect(res.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      expect(res.data?.user).toBeNull();
    });

    it('lets a patron see themselves', async () => {
      const res = await graphql<{ user: UserFields | null }>(users.url, USER, { id: patron.id }, as(patron.id, 'PATRON'));
      expect(res.errors).toBeUndefined();
      expect(res.data?.user).toEqual(patron);
    });

    it("refuses a patron another patron's record", async () => {
      const res = await graphql(users.url, USER, { id: other.id }, as(patron.id, 'PATRON'));
      expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(res.data?.user).toBeNull();
    });

    it('lets staff see anyone, email included', async () => {
      const byLibrarian = await graphql<{ user: UserFields | null }>(users.url, USER, { id: other.id }, as(librarian.id, 'LIBRARIAN'));
      expect(byLibrarian.data?.user).toEqual(other);
      const byAdmin = await graphql<{ user: UserFields | null }>(users.url, USER, { id: librarian.id }, as(admin.id, 'ADMIN'));
      expect(byAdmin.data?.user).toEqual(librarian);
    });

    it('is null for an id nobody has (staff) and for an id that is not a UUID', async () => {
      const missing = await graphql<{ user: UserFields | null }>(
        users.url,
        USER,
        { id: '00000000-0000-4000-8000-000000000000' },
        as(librarian.id, 'LIBRARIAN'),
      );
      expect(missing.errors).toBeUndefined();
      expect(missing.data?.user).toBeNull();
      const junk = await graphql<{ user: UserFields | null }>(users.url, USER, { id: 'nope' }, as(librarian.id, 'LIBRARIAN'));
      expect(junk.errors).toBeUndefined();
      expect(junk.data?.user).toBeNull();
    });
  });

  describe('users', () => {
    it('is for staff only', async () => {
      const anonymous = await graphql(users.url, USERS_QUERY);
      expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      const byPatron = await graphql(users.url, USERS_QUERY, {}, as(patron.id, 'PATRON'));
      expect(byPatron.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const byAdmin = await graphql<UsersPage>(users.url, USERS_QUERY, { first: 1 }, as(admin.id, 'ADMIN'));
      expect(byAdmin.errors).toBeUndefined();
      expect(byAdmin.data?.users.totalCount).toBe(50);
    });

    it('pages through everyone in (createdAt, id) order without repeats, ties included', async () => {
      const seen: UserFields[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const res: Awaited<ReturnType<typeof graphql<UsersPage>>> = await graphql<UsersPage>(
          users.url,
          USERS_QUERY,
          { first: 7, after },
          as(librarian.id, 'LIBRARIAN'),
        );
        expect(res.errors).toBeUndefined();
        const page = res.data!.users;
        expect(page.totalCount).toBe(50);
        seen.push(...page.edges.map((e) => e.node));
        after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
        pages += 1;
      } while (after);
      expect(pages).toBe(8);
      expect(seen).toEqual(all);
    });

    it('searches names and emails ignoring case', async () => {
      const byName = await graphql<UsersPage>(users.url, USERS_QUERY, { search: 'hOPPer' }, as(librarian.id, 'LIBRARIAN'));
      expect(byName.data?.users.edges.map((e) => e.node.name)).toEqual(['Grace Hopper']);
      const byEmail = await graphql<UsersPage>(users.url, USERS_QUERY, { search: 'LIBRARY.example' }, as(librarian.id, 'LIBRARIAN'));
      expect(byEmail.data?.users.edges.map((e) => e.node.name).sort()).toEqual(['Alan Admin', 'Dora Desk']);
      expect(byEmail.data?.users.totalCount).toBe(2);
      const none = await graphql<UsersPage>(users.url, USERS_QUERY, { search: 'zzz' }, as(librarian.id, 'LIBRARIAN'));
      expect(none.data?.users).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 });
    });

    it('pages through search results', async () => {
      const expected = all.filter((u) => u.name.startsWith('Patron 1')).map((u) => u.name);
      expect(expected).toHaveLength(11);
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const res: Awaited<ReturnType<typeof graphql<UsersPage>>> = await graphql<UsersPage>(
          users.url,
          USERS_QUERY,
          { search: 'patron 1', first: 4, after },
          as(librarian.id, 'LIBRARIAN'),
        );
        expect(res.errors).toBeUndefined();
        expect(res.data!.users.totalCount).toBe(11);
        seen.push(...res.data!.users.edges.map((e) => e.node.name));
        after = res.data!.users.pageInfo.hasNextPage ? res.data!.users.pageInfo.endCursor : null;
      } while (after);
      expect(seen).toEqual(expected);
    });

    it('refuses a bad page size, a foreign cursor and a tampered one', async () => {
      const staff = as(librarian.id, 'LIBRARIAN');
      for (const first of [0, -1, 101]) {
        const res = await graphql(users.url, USERS_QUERY, { first }, staff);
        expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      }
      const cursors = [
        'bm9wZQ',
        encodeCursor('books:TITLE', ['Dune', patron.id]),
        encodeCursor('users', ['2026-01-01T00:00:00.000Z', 'not-a-uuid']),
        encodeCursor('users', ['yesterday', patron.id]),
      ];
      for (const after of cursors) {
        const res = await graphql(users.url, USERS_QUERY, { after }, staff);
        expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      }
    });
  });

  it("tells anyone the service clock's time, test-clock moves included", async () => {
    const before = await graphql<{ now: string }>(users.url, '{ now }');
    expect(before.errors).toBeUndefined();
    expect(before.data?.now).toBe('2030-05-01T09:00:00.000Z');
    clock.advance(3600);
    const after = await graphql<{ now: string }>(users.url, '{ now }');
    expect(after.data?.now).toBe('2030-05-01T10:00:00.000Z');
  });
}

describe('users subgraph (PGlite)', () => {
  userSuite(() => ({}));
});

describePg('users subgraph (PostgreSQL)', () => {
  const databaseName = freshDatabaseName('users');
  // Outer hook: runs after the suite's own afterAll has stopped the service.
  afterAll(() => dropTestDatabase(databaseName));
  describe('fresh database', () => {
    userSuite(() => ({ databaseUrl: TEST_DATABASE_URL, databaseName }));
  });
});

import { allow, checkAccess, declaredFields, uncoveredFields, withAccessRules, type AccessRules, type Viewer } from '@shelfwise/kit';
import { GraphQLError } from 'graphql';
import { gql } from 'graphql-tag';

const typeDefs = gql`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
  type Loan @key(fields: "id") {
    id: ID!
    note: String
  }
  type Book @key(fields: "id", resolvable: false) {
    id: ID!
  }
  type Query {
    loans: [Loan!]!
    now: String!
  }
`;

const alice: Viewer = { userId: 'alice', role: 'PATRON' };
const bob: Viewer = { userId: 'bob', role: 'PATRON' };
const lin: Viewer = { userId: 'lin', role: 'LIBRARIAN' };
const ada: Viewer = { userId: 'ada', role: 'ADMIN' };

interface LoanRow {
  id: string;
  userId: string;
  note: string;
}

const rules: AccessRules = {
  Query: { loans: allow.librarian, now: allow.public },
  Loan: { '*': allow.ownerOrLibrarian<LoanRow>((loan) => loan.userId) },
  Book: { '*': allow.public },
};

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof GraphQLError ? (err.extensions.code as string) : 'NOT_A_GRAPHQL_ERROR';
  }
  return undefined;
}

async function codeOfAsync(fn: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await fn();
  } catch (err) {
    return err instanceof GraphQLError ? (err.extensions.code as string) : 'NOT_A_GRAPHQL_ERROR';
  }
  return undefined;
}

describe('access rules', () => {
  it('lists every field of every object type, with __resolveReference for resolvable entities only', () => {
    expect(Object.fromEntries(declaredFields(typeDefs))).toEqual({
      Loan: ['id', 'note', '__resolveReference'],
      Book: ['id'],
      Query: ['loans', 'now'],
    });
  });

  it('finds fields without a rule, and refuses to build resolvers while any is left', () => {
    expect(uncoveredFields(typeDefs, rules)).toEqual([]);
    const partial: AccessRules = { Query: { loans: allow.librarian }, Book: { '*': allow.public } };
    expect(uncoveredFields(typeDefs, partial)).toEqual(['Loan.id', 'Loan.note', 'Loan.__resolveReference', 'Query.now']);
    expect(() => withAccessRules(typeDefs, {}, partial)).toThrow(
      /No access rule for Loan\.id, Loan\.note, Loan\.__resolveReference, Query\.now/,
    );
  });

  it.each<[string, Viewer | null, string | undefined]>([
    ['anonymous', null, 'UNAUTHENTICATED'],
    ['the owner', alice, undefined],
    ['another patron', bob, 'FORBIDDEN'],
    ['a librarian', lin, undefined],
    ['an admin', ada, undefined],
  ])('lets %s see an owned object as the rule says', (_who, viewer, code) => {
    expect(
      codeOf(() =>
        checkAccess(
          allow.ownerOrLibrarian<LoanRow>((l) => l.userId),
          viewer,
          { id: 'l1', userId: 'alice', note: '' },
        ),
      ),
    ).toBe(code);
  });

  it('reads the owner from the arguments of a root field such as user(id:)', () => {
    const byArgument = allow.ownerOrLibrarian<unknown, { id: string }>((_parent, args) => args.id);
    expect(codeOf(() => checkAccess(byArgument, alice, undefined, { id: 'alice' }))).toBeUndefined();
    expect(codeOf(() => checkAccess(byArgument, alice, undefined, { id: 'bob' }))).toBe('FORBIDDEN');
    expect(codeOf(() => checkAccess(byArgument, lin, undefined, { id: 'bob' }))).toBeUndefined();
  });

  it('checks public, signed-in, librarian and admin rules', () => {
    expect(codeOf(() => checkAccess(allow.public, null, {}))).toBeUndefined();
    expect(codeOf(() => checkAccess(allow.signedIn, null, {}))).toBe('UNAUTHENTICATED');
    expect(codeOf(() => checkAccess(allow.signedIn, bob, {}))).toBeUndefined();
    expect(codeOf(() => checkAccess(allow.librarian, bob, {}))).toBe('FORBIDDEN');
    expect(codeOf(() => checkAccess(allow.librarian, lin, {}))).toBeUndefined();
    expect(codeOf(() => checkAccess(allow.admin, lin, {}))).toBe('FORBIDDEN');
    expect(codeOf(() => checkAccess(allow.admin, ada, {}))).toBeUndefined();
  });

  it('guards field resolvers and default property resolvers alike', async () => {
    const loan: LoanRow = { id: 'l1', userId: 'alice', note: 'due soon' };
    const wrapped = withAccessRules(typeDefs, { Query: { loans: () => [loan], now: () => 'now' } }, rules) as Record<
      string,
      Record<string, (...a: unknown[]) => unknown>
    >;
    const query = wrapped.Query!;
    const loanType = wrapped.Loan!;
    expect(codeOf(() => query.loans!(undefined, {}, { viewer: alice }, {}))).toBe('FORBIDDEN');
    expect(query.loans!(undefined, {}, { viewer: lin }, {})).toEqual([loan]);
    expect(query.now!(undefined, {}, { viewer: null }, {})).toBe('now');
    // Loan.note has no resolver of its own: the default property read is guarded too.
    expect(codeOf(() => loanType.note!(loan, {}, { viewer: bob }, {}))).toBe('FORBIDDEN');
    expect(loanType.note!(loan, {}, { viewer: alice }, {})).toBe('due soon');
  });

  it('refuses an anonymous _entities lookup before touching the data, and checks the owner on the entity found', async () => {
    const loads: string[] = [];
    const wrapped = withAccessRules(
      typeDefs,
      {
        Loan: {
          __resolveReference: (ref: { id: string }) => {
            loads.push(ref.id);
            return ref.id === 'missing' ? null : { id: ref.id, userId: 'alice', note: '' };
          },
        },
      },
      rules,
    ) as unknown as Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>>;
    const resolve = wrapped.Loan!.__resolveReference!;
    expect(await codeOfAsync(() => resolve({ id: 'l1' }, { viewer: null }, {}))).toBe('UNAUTHENTICATED');
    expect(loads).toEqual([]);
    expect(await codeOfAsync(() => resolve({ id: 'l1' }, { viewer: bob }, {}))).toBe('FORBIDDEN');
    await expect(resolve({ id: 'l1' }, { viewer: alice }, {})).resolves.toMatchObject({ id: 'l1' });
    await expect(resolve({ id: 'missing' }, { viewer: bob }, {})).resolves.toBeNull();
  });
});

describe('the service rule (internal operations)', () => {
  const internalTypeDefs = gql`
    extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@inaccessible"])
    type Copy @key(fields: "id") {
      id: ID!
    }
    type Query {
      copy: Copy
    }
    type Mutation {
      allocate(key: ID!): Copy! @inaccessible
    }
  `;
  const internalRules: AccessRules = {
    Query: { copy: allow.public },
    Mutation: { allocate: allow.service },
    Copy: { id: allow.public, __resolveReference: allow.service },
  };

  it.each<[string, Viewer | null]>([
    ['an anonymous caller', null],
    ['a patron', alice],
    ['a librarian', lin],
    ['an admin', ada],
  ])('refuses %s (FORBIDDEN), saying it is internal', (_who, viewer) => {
    let message = '';
    try {
      checkAccess(allow.service, viewer, {}, {}, null);
    } catch (err) {
      message = (err as GraphQLError).message;
    }
    expect(codeOf(() => checkAccess(allow.service, viewer, {}, {}, null))).toBe('FORBIDDEN');
    expect(message).toMatch(/internal operation between Shelfwise services/);
  });

  it('admits a calling service', () => {
    expect(codeOf(() => checkAccess(allow.service, null, {}, {}, 'loans'))).toBeUndefined();
  });

  it('guards a wrapped resolver and __resolveReference before they run', async () => {
    const calls: string[] = [];
    const wrapped = withAccessRules(
      internalTypeDefs,
      {
        Mutation: { allocate: (_p: unknown, args: { key: string }) => (calls.push(args.key), { id: 'c1' }) },
        Copy: { __resolveReference: (ref: { id: string }) => (calls.push(`ref:${ref.id}`), ref) },
      },
      internalRules,
    ) as unknown as Record<string, Record<string, (...a: unknown[]) => unknown>>;
    const allocate = wrapped.Mutation!.allocate!;
    expect(codeOf(() => allocate(undefined, { key: 'k1' }, { viewer: ada, service: null }, {}))).toBe('FORBIDDEN');
    expect(codeOf(() => allocate(undefined, { key: 'k1' }, { viewer: lin }, {}))).toBe('FORBIDDEN');
    expect(calls).toEqual([]);
    expect(allocate(undefined, { key: 'k1' }, { viewer: null, service: 'loans' }, {})).toEqual({ id: 'c1' });
    const resolve = wrapped.Copy!.__resolveReference! as (...a: unknown[]) => Promise<unknown>;
    expect(await codeOfAsync(() => resolve({ id: 'c9' }, { viewer: ada }, {}))).toBe('FORBIDDEN');
    await expect(resolve({ id: 'c9' }, { viewer: null, service: 'reservations' }, {})).resolves.toEqual({ id: 'c9' });
    expect(calls).toEqual(['k1', 'ref:c9']);
  });
});

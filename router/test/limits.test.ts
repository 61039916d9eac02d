import { composeServices } from '@apollo/composition';
import { start as startBooks, typeDefs as booksTypeDefs, type BooksHandle } from '@shelfwise/books';
import { graphql, type GraphQLResponse } from '@shelfwise/testkit';
import { getIntrospectionQuery, Kind, parse, type OperationDefinitionNode } from 'graphql';
import {
  DEFAULT_OPERATION_LIMITS,
  introspectionByDefault,
  measureOperation,
  operationLimitsFromEnv,
  resolveOperationLimits,
} from '../src/limits.js';
import { startRouter, type RouterHandle } from '../src/server.js';

function measure(query: string, variables?: Record<string, unknown>) {
  const document = parse(query);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)!;
  return measureOperation(document, operation, variables);
}

/** `book(id: $id) { copies { book { copies { … id } } } }`, `depth` levels deep (book is level 1). */
function nested(depth: number): string {
  let inner = 'id';
  for (let level = depth - 1; level >= 2; level -= 1) inner = `${level % 2 === 0 ? 'copies' : 'book'} { ${inner} }`;
  return `query Deep($id: ID!) { book(id: $id) { ${inner} } }`;
}

/** A book's title under `count` aliases (t1: title …), inside one root field. */
function aliased(count: number): string {
  const titles = Array.from({ length: count }, (_, i) => `t${i + 1}: title`).join(' ');
  return `query Aliased($id: ID!) { book(id: $id) { ${titles} } }`;
}

/** `count` root fields, each the same book under another alias. */
function rootFields(count: number): string {
  return `query Roots($id: ID!) { ${Array.from({ length: count }, (_, i) => `b${i}: book(id: $id) { id }`).join(' ')} }`;
}

/**
 * A catalogue page whose node spreads a ten-field fragment `spreads` times, plus `extra` more titles:
 * books + edges + node + 10 × spreads + extra fields in all, though the text names only a handful.
 */
function fragmentHeavy(spreads: number, extra: number): string {
  const tenTitles = Array.from({ length: 10 }, () => 'title').join(' ');
  const node = [...Array.from({ length: spreads }, () => '...Ten'), ...Array.from({ length: extra }, () => 'title')].join(' ');
  return `query Heavy { books(first: 2) { edges { node { ${node} } } } } fragment Ten on Book { ${tenTitles} }`;
}

describe('measureOperation', () => {
  it('counts depth, aliases, root fields and fields, fragments expanded', () => {
    const m = measure(`
      query {
        a: books(first: 5) { edges { node { ...Card } } }
        book(id: "1") { ...Card copies { id } }
      }
      fragment Card on Book { id t: title ... on Book { authors } }
    `);
    // a/books, edges, node, +3 from Card; book, +3 from Card, copies, id
    expect(m).toEqual({ depth: 4, aliases: 3, rootFields: 2, fields: 12, firsts: [{ field: 'books', value: 5 }] });
  });

  it('reads first from literals, variables and variable defaults, in fragments too', () => {
    const query = `
      query ($n: Int, $m: Int = 150) {
        books(first: $n) { edges { node { ...Reviews } } }
        other: books(first: $m) { totalCount }
      }
      fragment Reviews on Book { copies { id } reviews(first: 7) { totalCount } }
    `;
    expect(
      measure(query, { n: 20 })
        .firsts.map((f) => f.value)
        .sort((a, b) => a - b),
    ).toEqual([7, 20, 150]);
    expect(measure(query, { n: 20, m: 3 }).firsts.map((f) => f.value)).toContain(3);
  });

  it('measures a fragment bomb without expanding it (linear time), and its counts stay finite', () => {
    const levels = 60;
    const fragments = Array.from(
      { length: levels },
      (_, i) => `fragment F${i} on Book { ${i === levels - 1 ? 'title' : `...F${i + 1} ...F${i + 1}`} }`,
    );
    const m = measure(`{ book(id: "1") { ...F0 } } ${fragments.join(' ')}`);
    expect(m.fields).toBe(Math.min(1 + 2 ** (levels - 1), Number.MAX_SAFE_INTEGER));
    expect(m.depth).toBe(2);
  });

  it('does not recurse for ever on fragments that spread themselves (validation refuses them first anyway)', () => {
    const m = measure(`{ book(id: "1") { ...A } } fragment A on Book { title ...B } fragment B on Book { id ...A }`);
    expect(m.fields).toBe(3);
    expect(measure(`{ book(id: "1") { ...Self } } fragment Self on Book { id ...Self }`).fields).toBe(2);
  });

  it("leaves introspection's own nesting out of depth (the standard introspection query is 15 levels)", () => {
    const m = measure(getIntrospectionQuery({ descriptions: true }));
    expect(m.depth).toBe(1);
    expect(m.fields).toBeGreaterThan(200);
    expect(m.fields).toBeLessThan(DEFAULT_OPERATION_LIMITS.maxFields);
  });
});

describe('limit settings', () => {
  it('defaults to 12 levels, 30 aliases, 10 root fields, 500 fields and first ≤ 100', () => {
    expect(resolveOperationLimits({}, {})).toEqual({ maxDepth: 12, maxAliases: 30, maxRootFields: 10, maxFields: 500, maxFirst: 100 });
  });

  it('reads SHELFWISE_MAX_* and lets options override them', () => {
    const env = { SHELFWISE_MAX_DEPTH: '8', SHELFWISE_MAX_ALIASES: '5', SHELFWISE_MAX_ROOT_FIELDS: '3', SHELFWISE_MAX_FIELDS: '90' };
    expect(operationLimitsFromEnv(env)).toEqual({ maxDepth: 8, maxAliases: 5, maxRootFields: 3, maxFields: 90, maxFirst: 100 });
    expect(resolveOperationLimits({ maxDepth: 20, maxAliases: undefined }, env)).toMatchObject({ maxDepth: 20, maxAliases: 5 });
  });

  it('refuses limits that are not whole numbers of at least 1', () => {
    expect(() => resolveOperationLimits({}, { SHELFWISE_MAX_DEPTH: 'deep' })).toThrow(/SHELFWISE_MAX_DEPTH must be a whole number/);
    expect(() => resolveOperationLimits({}, { SHELFWISE_MAX_FIELDS: '0' })).toThrow(/maxFields must be a whole number of at least 1/);
    expect(() => resolveOperationLimits({ maxAliases: 2.5 }, {})).toThrow(/maxAliases/);
  });

  it('turns introspection off by default only in production', () => {
    expect(introspectionByDefault({})).toBe(true);
    expect(introspectionByDefault({ NODE_ENV: 'development' })).toBe(true);
    expect(introspectionByDefault({ NODE_ENV: 'test' })).toBe(true);
    expect(introspectionByDefault({ NODE_ENV: 'production' })).toBe(false);
  });
});

function composeBooksOnly(): string {
  const result = composeServices([{ name: 'books', url: 'http://localhost:9/graphql', typeDefs: booksTypeDefs }]);
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.supergraphSdl;
}

async function post(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; json: GraphQLResponse }> {
  const res = await fetch(url, { method: 'POST', headers, body });
  return { status: res.status, json: (await res.json()) as GraphQLResponse };
}

describe('router defences in front of books', () => {
  let books: BooksHandle;
  let router: RouterHandle;
  let closed: RouterHandle;
  let production: RouterHandle;
  let bookId: string;

  beforeAll(async () => {
    books = await startBooks({ port: 0 });
    bookId = (
      await books.books.create({ isbn: '9781000000001', title: 'Middlemarch', authors: ['George Eliot'], genres: ['Fiction'], copies: 2 })
    ).id;
    await books.books.create({ isbn: '9781000000002', title: 'Emma', authors: ['Jane Austen'], genres: ['Fiction'], copies: 1 });
    const supergraphSdl = composeBooksOnly();
    const common = { port: 0, host: '127.0.0.1', supergraphSdl, subgraphUrls: { books: books.url }, rateLimit: { ipPerMinute: 0 } };
    router = await startRouter(common);
    closed = await startRouter({ ...common, introspection: false });
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      production = await startRouter(common);
    } finally {
      process.env.NODE_ENV = nodeEnv;
    }
  });

  afterAll(async () => {
    await production?.stop();
    await closed?.stop();
    await router?.stop();
    await books?.stop();
  });

  /** Runs an operation and returns the answer with the subgraph fetches it caused. */
  async function run(query: string, variables: Record<string, unknown> = {}, target: RouterHandle = router) {
    target.resetFetchCounts();
    const res = await graphql<Record<string, unknown>>(target.url, query, variables);
    return { res, fetches: Object.fromEntries(target.fetchCounts) };
  }

  /** A refusal before execution: one BAD_USER_INPUT naming the limit, no data, no subgraph fetch at all. */
  function expectRefused(result: Awaited<ReturnType<typeof run>>, message: string, limit: string) {
    expect(result.res.data).toBeUndefined();
    expect(result.res.errors).toEqual([{ message, extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', limit }) }]);
    expect(result.fetches).toEqual({});
  }

  function expectAnswered(result: Awaited<ReturnType<typeof run>>) {
    expect(result.res.errors).toBeUndefined();
    expect(result.fetches).toEqual({ books: 1 });
  }

  it('depth: 12 levels are answered, 13 refused', async () => {
    expectAnswered(await run(nested(12), { id: bookId }));
    expectRefused(
      await run(nested(13), { id: bookId }),
      'This operation is 13 levels deep; the limit is 12. Split it into smaller queries.',
      'maxDepth',
    );
    expectRefused(
      await run(nested(14), { id: bookId }),
      'This operation is 14 levels deep; the limit is 12. Split it into smaller queries.',
      'maxDepth',
    );
  });

  it('aliases: 30 are answered, 31 refused', async () => {
    const ok = await run(aliased(30), { id: bookId });
    expectAnswered(ok);
    expect((ok.res.data?.book as Record<string, string>).t30).toBe('Middlemarch');
    expectRefused(
      await run(aliased(31), { id: bookId }),
      'This operation uses 31 aliases; the limit is 30. Split it into smaller queries.',
      'maxAliases',
    );
  });

  it('root fields: 10 are answered, 11 refused', async () => {
    expectAnswered(await run(rootFields(10), { id: bookId }));
    expectRefused(
      await run(rootFields(11), { id: bookId }),
      'This operation asks for 11 root fields; the limit is 10. Split it into smaller queries.',
      'maxRootFields',
    );
  });

  it('total fields, counting every fragment spread: 500 are answered, 501 refused', async () => {
    // 3 + 10 × 49 + 7 = 500, from a query text naming 12 fields.
    const ok = await run(fragmentHeavy(49, 7));
    expectAnswered(ok);
    expect(ok.res.data?.books).toEqual({ edges: [{ node: { title: 'Emma' } }, { node: { title: 'Middlemarch' } }] });
    expectRefused(
      await run(fragmentHeavy(49, 8)),
      'This operation selects 501 fields (fragments expanded); the limit is 500. Split it into smaller queries.',
      'maxFields',
    );
  });

  it('first: 100 is answered, 101 refused, whether literal, a variable or a default', async () => {
    expectAnswered(await run('{ books(first: 100) { totalCount } }'));
    const refusal = '"first" is 101 on books; the limit is 100 (it must be between 1 and 100). Ask for the next page with "after" instead.';
    expectRefused(await run('{ books(first: 101) { totalCount } }'), refusal, 'maxFirst');

    const byVariable = 'query ($n: Int) { books(first: $n) { totalCount } }';
    expectAnswered(await run(byVariable, { n: 100 }));
    expectRefused(await run(byVariable, { n: 101 }), refusal, 'maxFirst');
    expectRefused(await run('query ($n: Int = 101) { books(first: $n) { totalCount } }'), refusal, 'maxFirst');
    expectAnswered(await run('query ($n: Int = 101) { books(first: $n) { totalCount } }', { n: 5 }));
  });

  it('first in a fragment is checked too', async () => {
    const query = 'query { ...Page } fragment Page on Query { books(first: 5000) { totalCount } }';
    expectRefused(
      await run(query),
      '"first" is 5000 on books; the limit is 100 (it must be between 1 and 100). Ask for the next page with "after" instead.',
      'maxFirst',
    );
  });

  it('answers a refused operation with HTTP 400', async () => {
    const { status } = await post(router.url, JSON.stringify({ query: nested(13), variables: { id: bookId } }), {
      'content-type': 'application/json',
    });
    expect(status).toBe(400);
  });

  it('takes limits from its options', async () => {
    const strict = await startRouter({
      port: 0,
      host: '127.0.0.1',
      supergraphSdl: composeBooksOnly(),
      subgraphUrls: { books: books.url },
      limits: { maxDepth: 2 },
      rateLimit: { ipPerMinute: 0 },
    });
    try {
      expectAnswered(await run(nested(2), { id: bookId }, strict));
      expectRefused(
        await run(nested(3), { id: bookId }, strict),
        'This operation is 3 levels deep; the limit is 2. Split it into smaller queries.',
        'maxDepth',
      );
    } finally {
      await strict.stop();
    }
  });

  it('refuses a batch (a JSON array of operations), asking no subgraph', async () => {
    router.resetFetchCounts();
    const single = JSON.stringify({ query: '{ books(first: 1) { totalCount } }' });
    const { status, json } = await post(router.url, `[${single},${single}]`, { 'content-type': 'application/json' });
    expect(status).toBe(400);
    expect(json.errors?.[0]?.message).toMatch(/batching/i);
    expect(json.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    expect(Object.fromEntries(router.fetchCounts)).toEqual({});
  });

  it('refuses simple requests a browser would send cross-site (CSRF prevention)', async () => {
    router.resetFetchCounts();
    const body = JSON.stringify({ query: '{ books(first: 1) { totalCount } }' });
    const plain = await post(router.url, body, { 'content-type': 'text/plain' });
    expect(plain.status).toBe(400);
    expect(plain.json.errors?.[0]?.message).toMatch(/Cross-Site Request Forgery/);
    const form = await post(router.url, body, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(400);
    const get = await fetch(`${router.url}?query=${encodeURIComponent('{ books(first: 1) { totalCount } }')}`);
    expect(get.status).toBe(400);
    expect(Object.fromEntries(router.fetchCounts)).toEqual({});

    // The allowed cases: JSON, or a GET with a preflight-forcing header.
    expect((await post(router.url, body, { 'content-type': 'application/json' })).json).toEqual({ data: { books: { totalCount: 2 } } });
    const preflighted = await fetch(`${router.url}?query=${encodeURIComponent('{ books(first: 1) { totalCount } }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(await preflighted.json()).toEqual({ data: { books: { totalCount: 2 } } });
  });

  const INTROSPECTION = '{ __schema { queryType { name } } }';
  const TYPO = '{ book(id: "x") { titel } }';

  it('introspection is on outside production, with "did you mean" suggestions', async () => {
    const intro = await run(INTROSPECTION);
    expect(intro.res).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    const full = await run(getIntrospectionQuery({ descriptions: true }));
    expect(full.res.errors).toBeUndefined();
    const typo = await run(TYPO);
    expect(typo.res.errors?.[0]?.message).toBe('Cannot query field "titel" on type "Book". Did you mean "title"?');
  });

  it('refuses introspection that recurses through types (depth does not count it; graphql bounds it instead)', async () => {
    const circular = await run('{ __schema { types { fields { type { fields { type { fields { type { name } } } } } } } } }');
    expect(circular.res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(circular.res.errors?.[0]?.message).toMatch(/Maximum introspection depth exceeded/);
  });

  it('introspection off: refused, and validation errors no longer suggest field names', async () => {
    for (const target of [closed, production]) {
      const intro = await run(INTROSPECTION, {}, target);
      expect(intro.res.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(intro.res.errors?.[0]?.message).toMatch(/introspection is not allowed/);
      expect(intro.fetches).toEqual({});
      const typo = await run(TYPO, {}, target);
      expect(typo.res.errors?.map((e) => e.message)).toEqual(['Cannot query field "titel" on type "Book".']);
      const enumTypo = await run('{ books(first: 1, sort: TITEL) { totalCount } }', {}, target);
      expect(enumTypo.res.errors?.[0]?.message).not.toMatch(/did you mean/i);
      expect(JSON.stringify(enumTypo.res)).not.toContain('TITLE');
      // Ordinary operations still work.
      expect((await run('{ books(first: 1) { totalCount } }', {}, target)).res).toEqual({ data: { books: { totalCount: 2 } } });
    }
  });

  it('introspection off: variable values do not reveal enum values either', async () => {
    const res = await run('query ($s: BookSort) { books(first: 1, sort: $s) { totalCount } }', { s: 'TITEL' }, closed);
    expect(res.res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(res.res)).not.toMatch(/did you mean|TITLE/i);
    expect(res.fetches).toEqual({});
  });
});

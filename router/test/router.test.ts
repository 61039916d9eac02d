import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { start as startBooks, typeDefs as booksTypeDefs, type BooksHandle } from '@shelfwise/books';
import { allow, CALLER_HEADER, callerCredential, callerTrust, createLogger, startSubgraph, type SubgraphHandle } from '@shelfwise/kit';
import { graphql } from '@shelfwise/testkit';
import { gql } from 'graphql-tag';
import { SERVICE_UNAVAILABLE_MESSAGE, startRouter, type RouterHandle } from '../src/server.js';

/** A second subgraph, only for these tests, that adds a field to Book (so one query spans two subgraphs). */
const ratingsTypeDefs = gql`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  "A book, as the test ratings service knows it."
  type Book @key(fields: "id") {
    "Stable identifier."
    id: ID!
    "A score the test sets per book."
    testScore: Float
  }
`;

interface Ratings {
  handle: SubgraphHandle;
  scores: Map<string, number>;
  /** The viewer header of each request the subgraph received. */
  viewerHeaders: (string | undefined)[];
}

async function startRatings(scores: Map<string, number>): Promise<Ratings> {
  const viewerHeaders: (string | undefined)[] = [];
  const handle = await startSubgraph<Record<string, never>>({
    name: 'ratings',
    typeDefs: ratingsTypeDefs,
    resolvers: {
      Book: {
        __resolveReference: (ref: { id: string }) => ({ id: ref.id }),
        testScore: (book: { id: string }) => scores.get(book.id) ?? null,
      },
    },
    access: { Book: { '*': allow.public } },
    port: 0,
    logger: createLogger('ratings'),
    context: async (req) => {
      const header = req.headers[CALLER_HEADER];
      viewerHeaders.push(Array.isArray(header) ? header[0] : header);
      return {};
    },
    ready: async () => undefined,
  });
  return { handle, scores, viewerHeaders };
}

/** Composes books + ratings with routing URLs nobody listens on: the router must use the overrides. */
function composeTestSupergraph(): string {
  const result = composeServices([
    { name: 'books', url: 'http://localhost:9/graphql', typeDefs: booksTypeDefs },
    { name: 'ratings', url: 'http://localhost:9/graphql', typeDefs: ratingsTypeDefs },
  ]);
  if (result.errors) throw new Error(result.errors.map((e) => e.message).join('\n'));
  return result.supergraphSdl;
}

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url, { headers });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

const BOOKS_QUERY = `{ books(first: 10, sort: TITLE) { edges { node { title testScore } } } }`;
type BooksResult = { books: { edges: { node: { title: string; testScore: number | null } }[] } };

/** Whatever a response must never show: where the subgraphs run and how the connection failed. */
function expectNoInfrastructure(json: string, ports: number[]): void {
  for (const banned of ['127.0.0.1', 'localhost', 'ECONNREFUSED', 'http://', 'stack', ...ports.flatMap((p) => [`:${p}`, String(p)])]) {
    expect(json).not.toContain(banned);
  }
}

describe('router in front of books and a test subgraph', () => {
  let books: BooksHandle;
  let ratings: Ratings;
  let router: RouterHandle;
  let origin: string;
  let bookIds: string[];
  let clientDir: string;

  beforeAll(async () => {
    books = await startBooks({ port: 0 });
    bookIds = [];
    for (const [i, title] of ['Middlemarch', 'Dune', 'Emma'].entries()) {
      bookIds.push(
        (await books.books.create({ isbn: `978100000000${i}`, title, authors: [`Author ${i}`], genres: ['Fiction'], copies: 1 })).id,
      );
    }
    ratings = await startRatings(new Map([[bookIds[0]!, 4.5]]));
    clientDir = await mkdtemp(path.join(os.tmpdir(), 'shelfwise-client-'));
    await writeFile(path.join(clientDir, 'index.html'), '<!doctype html><title>Shelfwise</title>');
    await writeFile(path.join(clientDir, 'app.js'), 'console.log("app");');
    router = await startRouter({
      port: 0,
      host: '127.0.0.1',
      supergraphSdl: composeTestSupergraph(),
      subgraphUrls: { books: books.url, ratings: ratings.handle.url },
      clientDir,
    });
    origin = new URL(router.url).origin;
  });

  afterAll(async () => {
    await router?.stop();
    await ratings?.handle.stop();
    await books?.stop();
    await rm(clientDir, { recursive: true, force: true });
  });

  it('answers a query that spans both subgraphs, one fetch per subgraph', async () => {
    router.resetFetchCounts();
    const res = await graphql<BooksResult>(router.url, BOOKS_QUERY);
    expect(res.errors).toBeUndefined();
    expect(res.data?.books.edges.map((e) => e.node)).toEqual([
      { title: 'Dune', testScore: null },
      { title: 'Emma', testScore: null },
      { title: 'Middlemarch', testScore: 4.5 },
    ]);
    expect(Object.fromEntries(router.fetchCounts)).toEqual({ books: 1, ratings: 1 });
    router.resetFetchCounts();
    expect(router.fetchCounts.size).toBe(0);
  });

  it('only asks the subgraphs a query needs', async () => {
    router.resetFetchCounts();
    const res = await graphql<{ book: { title: string } }>(
      router.url,
      `
        query ($id: ID!) {
          book(id: $id) {
            title
          }
        }
      `,
      { id: bookIds[1] },
    );
    expect(res.data?.book.title).toBe('Dune');
    expect(Object.fromEntries(router.fetchCounts)).toEqual({ books: 1 });
  });

  it('serves the public API schema: introspection works, federation internals are hidden', async () => {
    const intro = await graphql<{ __type: { fields: { name: string }[] }; __schema: { queryType: { fields: { name: string }[] } } }>(
      router.url,
      `
        {
          __type(name: "Book") {
            fields {
              name
            }
          }
          __schema {
            queryType {
              fields {
                name
              }
            }
          }
        }
      `,
    );
    expect(intro.errors).toBeUndefined();
    expect(intro.data?.__type.fields.map((f) => f.name)).toEqual(expect.arrayContaining(['title', 'availableCopies', 'testScore']));
    const rootFields = intro.data?.__schema.queryType.fields.map((f) => f.name) ?? [];
    expect(rootFields).toEqual(expect.arrayContaining(['book', 'books']));
    expect(rootFields).not.toContain('_service');
    expect(rootFields).not.toContain('_entities');

    const service = await graphql(
      router.url,
      `
        {
          _service {
            sdl
          }
        }
      `,
    );
    expect(service.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const entities = await graphql(
      router.url,
      `
        {
          _entities(representations: []) {
            __typename
          }
        }
      `,
    );
    expect(entities.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('passes subgraph errors through with their code', async () => {
    const res = await graphql(
      router.url,
      `
        {
          books(first: 101) {
            totalCount
          }
        }
      `,
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toMatch(/between 1 and 100/);
    expectNoInfrastructure(JSON.stringify(res), [books.port, ratings.handle.port]);
  });

  it('never lets a client pose as a viewer (the credential is set by the router only)', async () => {
    ratings.viewerHeaders.length = 0;
    // Even a genuinely signed credential sent by a client is replaced by the router's own.
    const res = await graphql<BooksResult>(
      router.url,
      BOOKS_QUERY,
      {},
      { [CALLER_HEADER]: callerCredential({ userId: bookIds[0]!, role: 'ADMIN' }) },
    );
    expect(res.errors).toBeUndefined();
    expect(ratings.viewerHeaders).toHaveLength(1);
    expect(callerTrust().verify(ratings.viewerHeaders[0])?.viewer).toBeNull();
  });

  it('refuses a bearer token with 401 when the router has no sign-in configured, and serves anonymous callers', async () => {
    const res = await fetch(router.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer abc.def.ghi' },
      body: JSON.stringify({ query: BOOKS_QUERY }),
    });
    expect(res.status).toBe(401);
    const body = (await res.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
    expect((await graphql<BooksResult>(router.url, BOOKS_QUERY)).errors).toBeUndefined();
  });

  it('refuses a subgraph call that does not come from the router with 401, _entities and _service included', async () => {
    for (const query of [
      '{ books { totalCount } }',
      '{ _service { sdl } }',
      '{ _entities(representations: [{ __typename: "Book", id: "x" }]) { __typename } }',
    ]) {
      for (const credential of [undefined, 'garbage', 'u1;ADMIN', `${callerCredential(null).split('.')[0]}.AAAA`]) {
        const res = await fetch(books.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(credential === undefined ? {} : { [CALLER_HEADER]: credential }) },
          body: JSON.stringify({ query }),
        });
        expect(res.status).toBe(401);
        const body = (await res.json()) as { data?: unknown; errors: { extensions: { code: string } }[] };
        expect(body.data).toBeUndefined();
        expect(body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
      }
    }
  });

  it('answers GET /health and GET /ready', async () => {
    const health = await get(`${origin}/health`);
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toEqual({ status: 'ok' });
    const ready = await get(`${origin}/ready`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: 'ready' });
  });

  it('serves the web app at / with a fallback to index.html, and still GraphQL at /graphql', async () => {
    const root = await get(`${origin}/`);
    expect(root.status).toBe(200);
    expect(root.body).toContain('<title>Shelfwise</title>');
    const asset = await get(`${origin}/app.js`);
    expect(asset.type).toMatch(/javascript/);
    const deep = await get(`${origin}/books/123`, { accept: 'text/html' });
    expect(deep.status).toBe(200);
    expect(deep.body).toContain('<title>Shelfwise</title>');
    const api = await get(`${origin}/graphql?query=${encodeURIComponent('{ __typename }')}`, { 'apollo-require-preflight': 'true' });
    expect(JSON.parse(api.body)).toEqual({ data: { __typename: 'Query' } });
  });

  // Last: stops the ratings subgraph.
  it('gives partial data and SERVICE_UNAVAILABLE when a subgraph is down, without saying where it runs', async () => {
    const ratingsPort = ratings.handle.port;
    await ratings.handle.stop();

    const res = await graphql<BooksResult>(router.url, BOOKS_QUERY);
    expect(res.data?.books.edges.map((e) => e.node)).toEqual([
      { title: 'Dune', testScore: null },
      { title: 'Emma', testScore: null },
      { title: 'Middlemarch', testScore: null },
    ]);
    expect(res.errors?.length).toBeGreaterThan(0);
    for (const error of res.errors ?? []) {
      expect(error.extensions?.code).toBe('SERVICE_UNAVAILABLE');
      expect(error.message).toBe(SERVICE_UNAVAILABLE_MESSAGE);
    }
    expectNoInfrastructure(JSON.stringify(res), [books.port, ratingsPort]);

    const ready = await get(`${origin}/ready`);
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toEqual({ status: 'unavailable', notReady: ['ratings'] });
    expectNoInfrastructure(ready.body, [books.port, ratingsPort]);
  });
});

describe('router in front of a subgraph behind a failing proxy', () => {
  let proxy: http.Server;
  let books: BooksHandle;
  let router: RouterHandle;

  beforeAll(async () => {
    books = await startBooks({ port: 0 });
    // Answers like a load balancer whose backend is gone, naming its backend in the body.
    proxy = http.createServer((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<h1>502 Bad Gateway</h1><p>upstream http://10.1.2.3:4005/graphql refused the connection</p>');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/graphql`;
    router = await startRouter({
      port: 0,
      host: '127.0.0.1',
      supergraphSdl: composeTestSupergraph(),
      subgraphUrls: { books: books.url, ratings: proxyUrl },
    });
  });

  afterAll(async () => {
    await router?.stop();
    await books?.stop();
    await new Promise((resolve) => proxy?.close(resolve));
  });

  it('turns a 502 into SERVICE_UNAVAILABLE and hides the body', async () => {
    await books.books.create({ isbn: '9781000000099', title: 'Persuasion', authors: ['Jane Austen'], genres: ['Fiction'], copies: 1 });
    const res = await graphql<BooksResult>(router.url, BOOKS_QUERY);
    expect(res.data?.books.edges.map((e) => e.node)).toEqual([{ title: 'Persuasion', testScore: null }]);
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
    const json = JSON.stringify(res);
    expect(json).not.toContain('10.1.2.3');
    expect(json).not.toContain('Bad Gateway');
  });

  it('reports the whole answer unavailable when the root subgraph is down', async () => {
    const booksPort = books.port;
    await books.stop();
    const res = await graphql(
      router.url,
      `
        {
          books(first: 1) {
            totalCount
          }
        }
      `,
    );
    expect(res.data).toBeNull();
    expect(res.errors?.map((e) => e.extensions?.code)).toEqual(['SERVICE_UNAVAILABLE']);
    expectNoInfrastructure(JSON.stringify(res), [booksPort]);
  });
});

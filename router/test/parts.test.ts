import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { composeServices } from '@apollo/composition';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { CALLER_HEADER, callerTrust, createLogger } from '@shelfwise/kit';
import { GraphQLError } from 'graphql';
import { gql } from 'graphql-tag';
import { FetchCounter, SubgraphDataSource, type RouterContext } from '../src/dataSource.js';
import { createRouterErrorFormatter, SERVICE_UNAVAILABLE_MESSAGE, SubgraphUnavailableError } from '../src/errors.js';
import { createKeepAliveFetcher } from '../src/fetcher.js';
import { subgraphRoutes } from '../src/supergraph.js';

describe('router error formatter', () => {
  const format = createRouterErrorFormatter(createLogger('router-test'));
  const run = (error: GraphQLError) => format(error.toJSON(), error);

  it('keeps our public errors as they are', () => {
    const error = new GraphQLError('"first" must be between 1 and 100.', {
      path: ['books'],
      extensions: { code: 'BAD_USER_INPUT', field: 'first' },
    });
    expect(run(error)).toEqual({
      message: '"first" must be between 1 and 100.',
      path: ['books'],
      extensions: { code: 'BAD_USER_INPUT', field: 'first' },
    });
  });

  it('turns an unreachable subgraph into SERVICE_UNAVAILABLE, however the gateway wrapped it', () => {
    const direct = new SubgraphUnavailableError('reviews', new Error('connect ECONNREFUSED 127.0.0.1:4006'));
    expect(run(direct)).toEqual({ message: SERVICE_UNAVAILABLE_MESSAGE, extensions: { code: 'SERVICE_UNAVAILABLE' } });
    const raw = Object.assign(new Error('request to http://127.0.0.1:4006/graphql failed, reason: connect ECONNREFUSED 127.0.0.1:4006'), {
      code: 'ECONNREFUSED',
    });
    const wrapped = new GraphQLError(raw.message, { originalError: raw, path: ['book', 'averageRating'] });
    expect(run(wrapped)).toEqual({
      message: SERVICE_UNAVAILABLE_MESSAGE,
      path: ['book', 'averageRating'],
      extensions: { code: 'SERVICE_UNAVAILABLE' },
    });
  });

  it('drops the failed response the gateway attaches, and replaces messages that name a host', () => {
    const withResponse = new GraphQLError('401: Unauthorized', {
      extensions: {
        code: 'UNAUTHENTICATED',
        serviceName: 'users',
        response: { url: 'http://users:4001/graphql', status: 401, body: 'no' },
      },
    });
    expect(run(withResponse)).toEqual({ message: '401: Unauthorized', extensions: { code: 'UNAUTHENTICATED', serviceName: 'users' } });
    const naming = new GraphQLError('could not reach http://10.0.0.7:5432', { extensions: { code: 'NOT_FOUND' } });
    expect(run(naming).extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(JSON.stringify(run(naming))).not.toContain('10.0.0.7');
  });

  it('hides unexpected errors behind INTERNAL_SERVER_ERROR', () => {
    const sql = new GraphQLError('Invalid `prisma.book.findMany()` invocation: relation "Book" does not exist', {
      originalError: new Error('SQL'),
    });
    const out = run(sql);
    expect(out.extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR' });
    expect(out.message).not.toContain('prisma');
  });
});

describe('keep-alive fetcher', () => {
  let server: http.Server;
  let url: string;
  let connections = 0;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ method: req.method, body, contentType: req.headers['content-type'] }));
      });
    });
    server.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  it('reuses one connection for requests one after another', async () => {
    const fetcher = createKeepAliveFetcher();
    try {
      for (let i = 0; i < 10; i += 1) {
        const res = await fetcher.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"i":${i}}` });
        expect(res.ok).toBe(true);
        expect(await res.json()).toEqual({ method: 'POST', body: `{"i":${i}}`, contentType: 'application/json' });
      }
      expect(connections).toBe(1);
    } finally {
      fetcher.destroy();
    }
  });

  it('rejects with the network error when nothing listens', async () => {
    const fetcher = createKeepAliveFetcher();
    try {
      await expect(fetcher.fetch('http://127.0.0.1:9/graphql', { method: 'POST', body: '{}' })).rejects.toMatchObject({
        code: 'ECONNREFUSED',
      });
    } finally {
      fetcher.destroy();
    }
  });
});

describe('subgraphRoutes', () => {
  it('lists the subgraphs and routing URLs of a supergraph', () => {
    const typeDefs = (type: string) => gql`
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
      type ${type} @key(fields: "id") { id: ID! }
      type Query { ${type.toLowerCase()}: ${type} }
    `;
    const { supergraphSdl, errors } = composeServices([
      { name: 'alpha', url: 'http://localhost:4101/graphql', typeDefs: typeDefs('Alpha') },
      { name: 'beta', url: 'http://localhost:4102/graphql', typeDefs: typeDefs('Beta') },
    ]);
    expect(errors).toBeUndefined();
    expect(subgraphRoutes(supergraphSdl!)).toEqual([
      { name: 'alpha', url: 'http://localhost:4101/graphql' },
      { name: 'beta', url: 'http://localhost:4102/graphql' },
    ]);
    expect(() => subgraphRoutes('type Query { a: Int }')).toThrow(/no subgraphs/);
  });
});

describe('SubgraphDataSource', () => {
  const fetcher = createKeepAliveFetcher();
  afterAll(() => fetcher.destroy());
  const source = (counter = new FetchCounter()) =>
    new SubgraphDataSource({
      name: 'loans',
      url: 'http://127.0.0.1:9/graphql',
      fetcher: fetcher.fetch,
      counter,
      logger: createLogger('router-test'),
    });
  const send = (context: RouterContext, incoming: Record<string, string> = {}) => {
    const headers = new Headers(incoming);
    const options = {
      request: { http: { method: 'POST', url: 'http://127.0.0.1:9/graphql', headers } },
      context,
    } as unknown as GraphQLDataSourceProcessOptions<RouterContext>;
    source().willSendRequest(options);
    return callerTrust().verify(headers.get(CALLER_HEADER) ?? undefined);
  };

  it('vouches for the viewer and the client address in a signed x-shelfwise-caller credential', () => {
    expect(send({ viewer: { userId: '6f1d2c4e-1111-4aaa-8bbb-123456789abc', role: 'LIBRARIAN' }, clientAddress: '203.0.113.9' })).toEqual({
      viewer: { userId: '6f1d2c4e-1111-4aaa-8bbb-123456789abc', role: 'LIBRARIAN' },
      clientAddress: '203.0.113.9',
    });
  });

  it('vouches for an anonymous caller as anonymous, whatever credential the client sent', () => {
    const forged = callerTrust().sign({ viewer: { userId: 'someone', role: 'ADMIN' }, clientAddress: null });
    expect(send({ viewer: null }, { [CALLER_HEADER]: forged })).toEqual({ viewer: null, clientAddress: null });
  });

  it('counts every fetch, even one that fails, and resets', async () => {
    const counter = new FetchCounter();
    const ds = source(counter);
    // Nothing listens on port 9: both fetches fail as SERVICE_UNAVAILABLE.
    const options = {
      kind: 'HEALTH_CHECK',
      request: { query: '{ __typename }' },
      context: { viewer: null },
    } as unknown as GraphQLDataSourceProcessOptions<RouterContext>;
    await expect(ds.process(options)).rejects.toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' }, subgraph: 'loans' });
    await expect(ds.process(options)).rejects.toThrow(SERVICE_UNAVAILABLE_MESSAGE);
    expect(Object.fromEntries(counter.counts)).toEqual({ loans: 2 });
    counter.reset();
    expect(counter.counts.size).toBe(0);
  });
});

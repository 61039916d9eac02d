import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CALLER_HEADER,
  MutableSubgraphDirectory,
  ServiceClient,
  serviceTrust,
  subgraphDirectoryFromEnv,
  type Caller,
  type SubgraphDirectory,
} from '@shelfwise/kit';
import { GraphQLError } from 'graphql';

type Handler = (body: { query: string; variables: Record<string, unknown> }, req: IncomingMessage, res: ServerResponse) => void;

/** A stand-in for another subgraph: answers each POST with what the current handler says. */
describe('ServiceClient', () => {
  let server: Server;
  let url: string;
  let handler: Handler;
  const callers: (Caller | null)[] = [];
  const open = new Set<ServerResponse>();

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      req.on('end', () => {
        callers.push(serviceTrust().verify(req.headers[CALLER_HEADER] as string | undefined));
        open.add(res);
        res.on('close', () => open.delete(res));
        handler(JSON.parse(text) as { query: string; variables: Record<string, unknown> }, req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    for (const res of open) res.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    callers.length = 0;
  });

  const directory: SubgraphDirectory = { url: () => url };
  const client = () => new ServiceClient('loans', directory);
  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  async function failure(call: Promise<unknown>): Promise<GraphQLError> {
    try {
      await call;
    } catch (err) {
      if (err instanceof GraphQLError) return err;
      throw err;
    }
    throw new Error('the call did not fail');
  }

  it('posts the query and variables with a service credential naming the caller, and returns the data', async () => {
    let seen: { query: string; variables: Record<string, unknown> } | undefined;
    handler = (body, _req, res) => {
      seen = body;
      json(res, 200, { data: { allocateCopyForLoan: { id: 'c1' } } });
    };
    const data = await client().call<{ allocateCopyForLoan: { id: string } }>('books', 'mutation ($k: ID!) { x(k: $k) }', { k: 'loan-1' });
    expect(data).toEqual({ allocateCopyForLoan: { id: 'c1' } });
    expect(seen).toEqual({ query: 'mutation ($k: ID!) { x(k: $k) }', variables: { k: 'loan-1' } });
    expect(callers).toEqual([{ viewer: null, clientAddress: null, service: 'loans' }]);
  });

  it.each(['BOOK_UNAVAILABLE', 'CONFLICT', 'NOT_FOUND', 'BAD_USER_INPUT', 'IDEMPOTENCY_KEY_REUSED', 'LOAN_LIMIT_REACHED'])(
    'passes a %s refusal through with its code, message and extensions',
    async (code) => {
      handler = (_body, _req, res) =>
        json(res, 200, { data: null, errors: [{ message: 'No copy of "Dune" is free right now.', extensions: { code, bookId: 'b1' } }] });
      const err = await failure(client().call('books', '{ x }'));
      expect(err.message).toBe('No copy of "Dune" is free right now.');
      expect(err.extensions).toEqual({ code, bookId: 'b1' });
    },
  );

  it.each<[string, Handler]>([
    [
      'an internal error there',
      (_b, _r, res) => json(res, 200, { errors: [{ message: 'Something went wrong', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }),
    ],
    [
      'a refused credential (a key mismatch between services)',
      (_b, _r, res) => json(res, 200, { errors: [{ message: 'internal operation', extensions: { code: 'FORBIDDEN' } }] }),
    ],
    [
      'an unauthenticated answer',
      (_b, _r, res) => json(res, 401, { errors: [{ message: 'no', extensions: { code: 'UNAUTHENTICATED' } }] }),
    ],
    ['an error without a code', (_b, _r, res) => json(res, 200, { errors: [{ message: 'odd' }] })],
    ['no data and no errors', (_b, _r, res) => json(res, 200, { data: null })],
    [
      'a body that is not JSON (a proxy page)',
      (_b, _r, res) => {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html>Bad gateway</html>');
      },
    ],
    ['a connection dropped mid-answer', (_b, req) => req.socket.destroy()],
  ])('maps %s to SERVICE_UNAVAILABLE naming the service, not its address', async (_what, answer) => {
    handler = answer;
    const err = await failure(client().call('books', '{ x }'));
    expect(err.extensions.code).toBe('SERVICE_UNAVAILABLE');
    expect(err.message).toMatch(/The books service did not answer/);
    expect(err.message).not.toContain('127.0.0.1');
  });

  it('gives up after its timeout with SERVICE_UNAVAILABLE', async () => {
    handler = () => undefined; // never answers
    const err = await failure(client().call('books', '{ x }', {}, { timeoutMs: 100 }));
    expect(err.extensions.code).toBe('SERVICE_UNAVAILABLE');
  });

  it('answers SERVICE_UNAVAILABLE when nothing listens at the address', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await failure(new ServiceClient('loans', { url: () => `http://127.0.0.1:${port}/graphql` }).call('books', '{ x }'));
    expect(err.extensions.code).toBe('SERVICE_UNAVAILABLE');
    expect(err.message).not.toContain(String(port));
  });

  it('finds subgraphs from the environment, and the embedded launcher fills in actual ports', () => {
    const fromEnv = subgraphDirectoryFromEnv({ SHELFWISE_BOOKS_URL: 'http://books.internal:9000/graphql' });
    expect(fromEnv.url('books')).toBe('http://books.internal:9000/graphql');
    expect(fromEnv.url('loans')).toBe('http://127.0.0.1:4003/graphql');
    const mutable = new MutableSubgraphDirectory(fromEnv);
    mutable.set('loans', 'http://127.0.0.1:5555/graphql');
    expect([mutable.url('loans'), mutable.url('books')]).toEqual(['http://127.0.0.1:5555/graphql', 'http://books.internal:9000/graphql']);
  });
});

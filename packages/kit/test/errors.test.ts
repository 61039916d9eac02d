import { Writable } from 'node:stream';
import { ApolloServer } from '@apollo/server';
import {
  appError,
  badInput,
  conflict,
  createErrorFormatter,
  ErrorCode,
  forbidden,
  INTERNAL_ERROR_MESSAGE,
  notFound,
  unauthenticated,
  type Logger,
} from '@shelfwise/kit';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { pino } from 'pino';

function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

/** Looks like what @prisma/client throws on a unique violation: SQL-ish text, a P-code, meta. */
class PrismaClientKnownRequestError extends Error {
  override name = 'PrismaClientKnownRequestError';
  code = 'P2002';
  meta = { modelName: 'Loan', target: ['copyId'] };
  clientVersion = '7.10.0';
}

const SQL_MESSAGE =
  'Invalid `prisma.loan.create()` invocation:\n\nUnique constraint failed on the fields: (`copyId`)\nINSERT INTO "public"."Loan" ("id","copyId") VALUES ($1,$2) at 10.0.3.7:5432';

describe('error helpers', () => {
  it('build GraphQL errors with the fixed codes and the given message', () => {
    const cases: [GraphQLError, string][] = [
      [badInput('Give an ISBN of 13 digits.'), 'BAD_USER_INPUT'],
      [notFound('No book with that id.'), 'NOT_FOUND'],
      [conflict('That copy is already on loan.'), 'CONFLICT'],
      [forbidden(), 'FORBIDDEN'],
      [unauthenticated(), 'UNAUTHENTICATED'],
      [appError(ErrorCode.LOAN_LIMIT_REACHED, 'You already have 5 loans; return one first.', { limit: 5 }), 'LOAN_LIMIT_REACHED'],
    ];
    for (const [err, code] of cases) {
      expect(err).toBeInstanceOf(GraphQLError);
      expect(err.extensions.code).toBe(code);
    }
    expect(forbidden().message).toBe('You are not allowed to do this.');
    expect(unauthenticated().message).toBe('You need to sign in to do this.');
    expect(cases[5]![0].extensions).toEqual({ code: 'LOAN_LIMIT_REACHED', limit: 5 });
  });

  it('never lets extra extensions override the code', () => {
    expect(badInput('x', { code: 'INTERNAL_SERVER_ERROR' }).extensions.code).toBe('BAD_USER_INPUT');
  });
});

describe('createErrorFormatter', () => {
  it('keeps our codes, messages and public extensions, and strips stack traces', () => {
    const { logger, lines } = capturingLogger();
    const format = createErrorFormatter(logger);
    const error = appError(ErrorCode.RENEWAL_LIMIT_REACHED, 'This loan was renewed twice already; return it instead.', { renewals: 2 });
    const formatted: GraphQLFormattedError = {
      message: error.message,
      path: ['renewLoan'],
      locations: [{ line: 1, column: 12 }],
      extensions: {
        code: 'RENEWAL_LIMIT_REACHED',
        renewals: 2,
        stacktrace: ['GraphQLError: …', '    at renew (/app/src/x.ts:1:1)'],
        exception: { stacktrace: [] },
      },
    };
    expect(format(formatted, error)).toEqual({
      message: 'This loan was renewed twice already; return it instead.',
      path: ['renewLoan'],
      locations: [{ line: 1, column: 12 }],
      extensions: { code: 'RENEWAL_LIMIT_REACHED', renewals: 2 },
    });
    expect(lines).toEqual([]);
  });

  it.each(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND'])(
    'passes Apollo request error %s through',
    (code) => {
      const format = createErrorFormatter(capturingLogger().logger);
      const message = 'Cannot query field "titel" on type "Book". Did you mean "title"?';
      expect(format({ message, extensions: { code, stacktrace: ['x'] } }, new GraphQLError(message))).toEqual({
        message,
        extensions: { code },
      });
    },
  );

  it.each<[string, unknown, GraphQLFormattedError]>([
    [
      'a plain Error',
      new Error('connect ECONNREFUSED 10.0.3.7:5432'),
      { message: 'connect ECONNREFUSED 10.0.3.7:5432', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
    ],
    [
      'a Prisma error with SQL',
      new PrismaClientKnownRequestError(SQL_MESSAGE),
      { message: SQL_MESSAGE, path: ['borrow'], extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: ['at /app'] } },
    ],
    [
      'an unknown code',
      new GraphQLError('upstream said no'),
      { message: 'upstream said no', extensions: { code: 'DOWNSTREAM_SERVICE_ERROR', serviceName: 'loans' } },
    ],
    ['no code at all', 'a thrown string', { message: 'Unexpected error value: "a thrown string"' }],
    [
      'INTERNAL_SERVER_ERROR from our own helper',
      appError(ErrorCode.INTERNAL_SERVER_ERROR, 'pool exhausted on db-1'),
      { message: 'pool exhausted on db-1', extensions: { code: 'INTERNAL_SERVER_ERROR' } },
    ],
  ])('masks %s as INTERNAL_SERVER_ERROR with the generic message, and logs the original', (_what, error, formatted) => {
    const { logger, lines } = capturingLogger();
    const format = createErrorFormatter(logger);
    const result = format(formatted, error);
    expect(result).toEqual({
      message: INTERNAL_ERROR_MESSAGE,
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(JSON.stringify(result)).not.toMatch(/INSERT|10\.0\.3\.7|stack|prisma|loans/i);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'unexpected error while resolving a request', level: 50 });
  });

  it('logs the original error behind a wrapped GraphQLError', () => {
    const { logger, lines } = capturingLogger();
    const original = new PrismaClientKnownRequestError(SQL_MESSAGE);
    const wrapped = new GraphQLError(original.message, { originalError: original });
    createErrorFormatter(logger)({ message: original.message, extensions: { code: 'INTERNAL_SERVER_ERROR' } }, wrapped);
    expect(JSON.stringify(lines[0])).toContain('P2002');
  });

  describe('inside Apollo Server', () => {
    let server: ApolloServer;
    let log: ReturnType<typeof capturingLogger>;

    beforeAll(async () => {
      log = capturingLogger();
      server = new ApolloServer({
        typeDefs: `type Query { ours: String  plain: String  prisma: String  fine: String }`,
        resolvers: {
          Query: {
            ours: () => {
              throw conflict('That copy is already on loan; pick another copy.', { copyId: 'c-1' });
            },
            plain: () => {
              throw new Error('connect ECONNREFUSED 10.0.3.7:5432');
            },
            prisma: () => {
              throw new PrismaClientKnownRequestError(SQL_MESSAGE);
            },
            fine: () => 'ok',
          },
        },
        formatError: createErrorFormatter(log.logger),
        // even when Apollo would include stack traces, none leaves
        includeStacktraceInErrorResponses: true,
      });
      await server.start();
    });
    afterAll(() => server.stop());

    async function run(query: string) {
      const res = await server.executeOperation({ query });
      if (res.body.kind !== 'single') throw new Error('expected a single result');
      return res.body.singleResult;
    }

    it('answers with our code, message and extensions, no stack trace, and partial data', async () => {
      const result = await run('{ ours fine }');
      expect(result.data).toEqual({ ours: null, fine: 'ok' });
      expect(result.errors).toEqual([
        {
          message: 'That copy is already on loan; pick another copy.',
          path: ['ours'],
          locations: [{ line: 1, column: 3 }],
          extensions: { code: 'CONFLICT', copyId: 'c-1' },
        },
      ]);
    });

    it('masks a plain error and a Prisma error with SQL', async () => {
      const result = await run('{ plain prisma fine }');
      expect(result.data).toEqual({ plain: null, prisma: null, fine: 'ok' });
      expect(result.errors).toEqual([
        {
          message: INTERNAL_ERROR_MESSAGE,
          path: ['plain'],
          locations: [{ line: 1, column: 3 }],
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
        {
          message: INTERNAL_ERROR_MESSAGE,
          path: ['prisma'],
          locations: [{ line: 1, column: 9 }],
          extensions: { code: 'INTERNAL_SERVER_ERROR' },
        },
      ]);
      const logged = JSON.stringify(log.lines);
      expect(logged).toContain('ECONNREFUSED');
      expect(logged).toContain('P2002');
    });

    it('passes a validation error through with its helpful message', async () => {
      const result = await run('{ fien }');
      expect(result.errors?.[0]?.extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED' });
      expect(result.errors?.[0]?.message).toMatch(/Cannot query field "fien" on type "Query"\. Did you mean "fine"\?/);
    });
  });
});

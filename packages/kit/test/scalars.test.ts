import { DateTimeScalar } from '@shelfwise/kit';
import { graphql, GraphQLError, GraphQLNonNull, GraphQLObjectType, GraphQLSchema, parseValue } from 'graphql';

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, nothing was thrown');
}

describe('DateTime scalar', () => {
  it('is named DateTime and described', () => {
    expect(DateTimeScalar.name).toBe('DateTime');
    expect(DateTimeScalar.description).toMatch(/ISO-8601/);
  });

  describe('serialize (our values → the wire)', () => {
    it('writes UTC ISO-8601 with milliseconds', () => {
      expect(DateTimeScalar.serialize(new Date('2026-11-23T10:00:00Z'))).toBe('2026-11-23T10:00:00.000Z');
      expect(DateTimeScalar.serialize('2026-11-23T11:00:00+01:00')).toBe('2026-11-23T10:00:00.000Z');
      expect(DateTimeScalar.serialize(Date.UTC(2026, 10, 23, 10))).toBe('2026-11-23T10:00:00.000Z');
    });

    it.each([new Date(Number.NaN), 'soon', {}, true, null])(
      'treats %p as our own bug (a plain Error, masked later), not bad input',
      (value) => {
        const err = errorOf(() => DateTimeScalar.serialize(value));
        expect(err).toBeInstanceOf(Error);
        expect(err).not.toBeInstanceOf(GraphQLError);
        expect((err as Error).message).toMatch(/^DateTime cannot represent/);
      },
    );
  });

  describe('parseValue and parseLiteral (the client → our values)', () => {
    it.each([
      ['2026-11-23T10:00:00Z', '2026-11-23T10:00:00.000Z'],
      ['2026-11-23T10:00:00.123Z', '2026-11-23T10:00:00.123Z'],
      ['2026-11-23T10:00Z', '2026-11-23T10:00:00.000Z'],
      ['2026-11-23T11:30:00+01:30', '2026-11-23T10:00:00.000Z'],
      ['2026-11-23T05:00:00-05:00', '2026-11-23T10:00:00.000Z'],
      ['2028-02-29T00:00:00Z', '2028-02-29T00:00:00.000Z'],
    ])('accepts %s', (text, iso) => {
      expect(DateTimeScalar.parseValue(text).toISOString()).toBe(iso);
      expect(DateTimeScalar.parseLiteral(parseValue(JSON.stringify(text)), {}).toISOString()).toBe(iso);
    });

    it.each([
      ['a word', 'tomorrow'],
      ['a bare number in a string', '1'],
      ['a date without a time', '2026-11-23'],
      ['a time without a zone (would be read in the server time zone)', '2026-11-23T10:00:00'],
      ['a day that does not exist', '2026-02-30T10:00:00Z'],
      ['February 29 in a common year', '2026-02-29T10:00:00Z'],
      ['month 13', '2026-13-01T10:00:00Z'],
      ['hour 24', '2026-11-23T24:00:00Z'],
      ['an offset without a colon', '2026-11-23T10:00:00+0100'],
      ['an empty string', ''],
      ['a number', 1_700_000_000_000],
      ['an object', { at: '2026-11-23T10:00:00Z' }],
    ])('refuses %s with BAD_USER_INPUT and an example', (_what, value) => {
      const err = errorOf(() => DateTimeScalar.parseValue(value));
      expect(err).toBeInstanceOf(GraphQLError);
      expect((err as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
      expect((err as GraphQLError).message).toContain('2026-11-23T10:00:00Z');
    });

    it('refuses a literal that is not a string', () => {
      const err = errorOf(() => DateTimeScalar.parseLiteral(parseValue('1700000000000'), {}));
      expect((err as GraphQLError).extensions.code).toBe('BAD_USER_INPUT');
      expect((err as GraphQLError).message).toMatch(/written as a string/);
    });
  });

  describe('in a schema', () => {
    const schema = new GraphQLSchema({
      query: new GraphQLObjectType({
        name: 'Query',
        fields: {
          echo: {
            type: new GraphQLNonNull(DateTimeScalar),
            args: { at: { type: new GraphQLNonNull(DateTimeScalar) } },
            resolve: (_root, args: { at: Date }) => {
              expect(args.at).toBeInstanceOf(Date);
              return new Date(args.at.getTime() + 60_000);
            },
          },
        },
      }),
    });

    it('parses a variable and a literal to a Date and serializes the result', async () => {
      const viaVariable = await graphql({
        schema,
        source: 'query($at: DateTime!) { echo(at: $at) }',
        variableValues: { at: '2026-11-23T10:00:00Z' },
      });
      expect(viaVariable).toEqual({ data: { echo: '2026-11-23T10:01:00.000Z' } });
      const viaLiteral = await graphql({ schema, source: '{ echo(at: "2026-11-23T10:00:00+02:00") }' });
      expect(viaLiteral).toEqual({ data: { echo: '2026-11-23T08:01:00.000Z' } });
    });

    it('reports a bad variable as an error, never as a server failure', async () => {
      const result = await graphql({ schema, source: 'query($at: DateTime!) { echo(at: $at) }', variableValues: { at: 'next tuesday' } });
      expect(result.data).toBeUndefined();
      expect(result.errors?.[0]?.message).toMatch(/^Variable "\$at" got invalid value "next tuesday"; A DateTime must be an ISO-8601/);
    });
  });
});

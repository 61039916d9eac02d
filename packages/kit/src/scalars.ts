import { GraphQLScalarType, Kind } from 'graphql';
import { badInput } from './errors.js';

function toDate(value: unknown): Date {
  const date = value instanceof Date ? value : typeof value === 'string' || typeof value === 'number' ? new Date(value) : new Date(NaN);
  if (Number.isNaN(date.getTime())) throw badInput('A DateTime must be an ISO-8601 date and time, e.g. 2026-11-23T10:00:00Z.');
  return date;
}

/**
 * `DateTime`: an ISO-8601 instant in UTC, e.g. `2026-11-23T10:00:00.000Z`. Every subgraph declares
 * `scalar DateTime` and maps it to this resolver.
 */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO-8601 instant in UTC, e.g. 2026-11-23T10:00:00.000Z.',
  serialize: (value) => toDate(value).toISOString(),
  parseValue: (value) => toDate(value),
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw badInput('A DateTime must be written as a string.');
    return toDate(ast.value);
  },
});

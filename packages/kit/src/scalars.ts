import { GraphQLScalarType, Kind } from 'graphql';
import { badInput } from './errors.js';

const INPUT_HINT = 'A DateTime must be an ISO-8601 date and time with a time zone, e.g. 2026-11-23T10:00:00Z.';

/** Date, time and zone are all required: without a zone, `new Date()` would read the server's local time. */
const ISO_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/i;

/**
 * A client's DateTime: a strict ISO-8601 string. `new Date()` alone would take "1" (the year 2001),
 * "2026-02-30T00:00:00Z" (2 March) or a zone-less time in the server's zone.
 */
function parseInput(value: unknown): Date {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
  const match = typeof value === 'string' ? ISO_DATE_TIME.exec(value) : null;
  if (!match) throw badInput(INPUT_HINT);
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offsetHours = 0, offsetMinutes = 0] = match
    .slice(1)
    .map((part) => Number(part ?? 0));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const inRange =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHours <= 23 &&
    offsetMinutes <= 59;
  const date = new Date(value as string);
  if (!inRange || Number.isNaN(date.getTime())) throw badInput(INPUT_HINT);
  return date;
}

/** A value our own resolvers return: a Date (Prisma), an ISO string (a bus message) or epoch milliseconds. */
function serializeOutput(value: unknown): string {
  const date = value instanceof Date ? value : typeof value === 'string' || typeof value === 'number' ? new Date(value) : new Date(NaN);
  // Not the client's fault: a plain Error, which the error formatter turns into INTERNAL_SERVER_ERROR.
  if (Number.isNaN(date.getTime()))
    throw new Error(`DateTime cannot represent ${typeof value === 'string' ? `"${value}"` : typeof value}.`);
  return date.toISOString();
}

/**
 * `DateTime`: an ISO-8601 instant in UTC, e.g. `2026-11-23T10:00:00.000Z`. Every subgraph declares
 * `scalar DateTime` and maps it to this resolver. Inputs must carry a time zone (`Z` or `±hh:mm`).
 */
export const DateTimeScalar = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: 'An ISO-8601 instant in UTC, e.g. 2026-11-23T10:00:00.000Z.',
  serialize: serializeOutput,
  parseValue: parseInput,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw badInput('A DateTime must be written as a string, e.g. "2026-11-23T10:00:00Z".');
    return parseInput(ast.value);
  },
});

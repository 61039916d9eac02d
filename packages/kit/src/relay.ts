import { badInput } from './errors.js';

/** Largest page any list field serves. */
export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

export interface PageInfo {
  hasNextPage: boolean;
  endCursor: string | null;
}

export interface Edge<T> {
  cursor: string;
  node: T;
}

export interface Connection<T> {
  edges: Edge<T>[];
  pageInfo: PageInfo;
  totalCount: number;
}

/** `first` checked and defaulted: 1..100, BAD_USER_INPUT otherwise. */
export function pageSize(first: number | null | undefined): number {
  if (first === null || first === undefined) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badInput(`"first" must be between 1 and ${MAX_PAGE_SIZE}; ask for the next page with "after" instead.`);
  }
  return first;
}

/**
 * Cursors are opaque to clients: base64url of `<kind>:<json key>`. The kind stops a cursor from one list
 * being used on another; a cursor that does not decode is a BAD_USER_INPUT, never a server error.
 */
export function encodeCursor(kind: string, key: unknown): string {
  return Buffer.from(`${kind}:${JSON.stringify(key)}`, 'utf8').toString('base64url');
}

export function decodeCursor<T>(kind: string, cursor: string | null | undefined, isKey: (value: unknown) => value is T): T | undefined {
  if (cursor === null || cursor === undefined) return undefined;
  const invalid = () => badInput('The "after" cursor is not valid for this list. Use an endCursor this list returned.');
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(`${kind}:`)) throw invalid();
  let value: unknown;
  try {
    value = JSON.parse(text.slice(kind.length + 1));
  } catch {
    throw invalid();
  }
  if (!isKey(value)) throw invalid();
  return value;
}

/**
 * Builds a connection from rows fetched with `take: size + 1` (the extra row only says whether a next
 * page exists).
 */
export function toConnection<T>(rows: T[], size: number, totalCount: number, cursorOf: (row: T) => string): Connection<T> {
  const page = rows.slice(0, size);
  const edges = page.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > size, endCursor: edges.at(-1)?.cursor ?? null },
    totalCount,
  };
}

/** Cursor key for lists ordered by (createdAt, id): stable even when timestamps tie. */
export type TimeIdKey = [string, string];

export function isTimeIdKey(value: unknown): value is TimeIdKey {
  return (
    Array.isArray(value) &&
    value.length === 2 &&
    typeof value[0] === 'string' &&
    !Number.isNaN(Date.parse(value[0])) &&
    typeof value[1] === 'string'
  );
}

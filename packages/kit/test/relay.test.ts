import {
  DEFAULT_PAGE_SIZE,
  type Connection,
  decodeCursor,
  encodeCursor,
  isTimeIdKey,
  MAX_PAGE_SIZE,
  pageSize,
  toConnection,
  type TimeIdKey,
} from '@shelfwise/kit';
import { GraphQLError } from 'graphql';

/** The error `fn` throws (fails the test when it does not throw). */
function thrown(fn: () => unknown): GraphQLError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GraphQLError);
    return err as GraphQLError;
  }
  throw new Error('expected a GraphQLError, nothing was thrown');
}

describe('relay helpers', () => {
  describe('pageSize', () => {
    it('defaults to 20 when "first" is not given', () => {
      expect(DEFAULT_PAGE_SIZE).toBe(20);
      expect(pageSize(undefined)).toBe(20);
      expect(pageSize(null)).toBe(20);
    });

    it('accepts 1 through 100', () => {
      expect(MAX_PAGE_SIZE).toBe(100);
      expect(pageSize(1)).toBe(1);
      expect(pageSize(37)).toBe(37);
      expect(pageSize(100)).toBe(100);
    });

    it.each([0, -1, 101, 1000, 2.5, Number.NaN])('refuses first: %p with BAD_USER_INPUT and a hint', (first) => {
      const err = thrown(() => pageSize(first));
      expect(err.extensions.code).toBe('BAD_USER_INPUT');
      expect(err.message).toBe('"first" must be between 1 and 100; ask for the next page with "after" instead.');
    });
  });

  describe('cursors', () => {
    const key: TimeIdKey = ['2026-11-23T10:00:00.000Z', '0b7d4a3e-1f7e-4a56-9d0c-6f1f9f1a2b3c'];

    it('round-trips a key and is opaque URL-safe text', () => {
      const cursor = encodeCursor('loans', key);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(cursor).not.toContain('loans');
      expect(decodeCursor('loans', cursor, isTimeIdKey)).toEqual(key);
    });

    it('treats a missing cursor as "from the start"', () => {
      expect(decodeCursor('loans', undefined, isTimeIdKey)).toBeUndefined();
      expect(decodeCursor('loans', null, isTimeIdKey)).toBeUndefined();
    });

    it('refuses a cursor from another list', () => {
      const fromBooks = encodeCursor('books', key);
      const err = thrown(() => decodeCursor('loans', fromBooks, isTimeIdKey));
      expect(err.extensions.code).toBe('BAD_USER_INPUT');
      expect(err.message).toBe('The "after" cursor is not valid for this list. Use an endCursor this list returned.');
      // a kind that is a prefix of another kind is still a different list
      expect(thrown(() => decodeCursor('loan', encodeCursor('loans', key), isTimeIdKey)).extensions.code).toBe('BAD_USER_INPUT');
    });

    it.each([
      ['garbage text', 'nope!!'],
      ['empty string', ''],
      ['base64 of a bare word', Buffer.from('nope').toString('base64url')],
      ['right kind, broken JSON', Buffer.from('loans:["2026-11-23T10:00:00.000Z",').toString('base64url')],
      ['right kind, wrong shape', Buffer.from('loans:{"id":"x"}').toString('base64url')],
      ['right kind, not a date', Buffer.from('loans:["yesterday","x"]').toString('base64url')],
      ['right kind, three parts', Buffer.from('loans:["2026-11-23T10:00:00.000Z","x","y"]').toString('base64url')],
    ])('refuses %s with BAD_USER_INPUT, never a server error', (_what, cursor) => {
      expect(thrown(() => decodeCursor('loans', cursor, isTimeIdKey)).extensions.code).toBe('BAD_USER_INPUT');
    });
  });

  describe('isTimeIdKey', () => {
    it('accepts [ISO time, id] only', () => {
      expect(isTimeIdKey(['2026-11-23T10:00:00.000Z', 'id'])).toBe(true);
      expect(isTimeIdKey(['2026-11-23T10:00:00.000Z', 1])).toBe(false);
      expect(isTimeIdKey(['not a time', 'id'])).toBe(false);
      expect(isTimeIdKey(['2026-11-23T10:00:00.000Z'])).toBe(false);
      expect(isTimeIdKey('2026-11-23T10:00:00.000Z')).toBe(false);
      expect(isTimeIdKey(null)).toBe(false);
    });
  });

  describe('toConnection', () => {
    const rows = ['a', 'b', 'c'].map((id) => ({ id }));
    const cursorOf = (row: { id: string }) => encodeCursor('test', row.id);

    it('says there is a next page when the extra row came back, and leaves it out', () => {
      const conn = toConnection(rows, 2, 10, cursorOf);
      expect(conn.edges.map((e) => e.node.id)).toEqual(['a', 'b']);
      expect(conn.edges.map((e) => e.cursor)).toEqual([cursorOf(rows[0]!), cursorOf(rows[1]!)]);
      expect(conn.pageInfo).toEqual({ hasNextPage: true, endCursor: cursorOf(rows[1]!) });
      expect(conn.totalCount).toBe(10);
    });

    it('says there is no next page when no extra row came back', () => {
      const exact = toConnection(rows, 3, 3, cursorOf);
      expect(exact.edges).toHaveLength(3);
      expect(exact.pageInfo).toEqual({ hasNextPage: false, endCursor: cursorOf(rows[2]!) });
      const short = toConnection(rows.slice(0, 1), 3, 1, cursorOf);
      expect(short.pageInfo).toEqual({ hasNextPage: false, endCursor: cursorOf(rows[0]!) });
    });

    it('has a null endCursor on an empty page', () => {
      expect(toConnection([], 20, 0, cursorOf)).toEqual({ edges: [], pageInfo: { hasNextPage: false, endCursor: null }, totalCount: 0 });
    });

    it('pages through a list without repeats or gaps when fed its own endCursor', () => {
      const all = Array.from({ length: 7 }, (_, i) => ({ id: `id-${i}` }));
      const kind = 'ids';
      const isId = (v: unknown): v is string => typeof v === 'string';
      const seen: string[] = [];
      let after: string | null = null;
      for (let guard = 0; guard < 10; guard++) {
        const from: string | undefined = decodeCursor(kind, after, isId);
        const start: number = from === undefined ? 0 : all.findIndex((r) => r.id === from) + 1;
        const size = 3;
        const conn: Connection<{ id: string }> = toConnection(all.slice(start, start + size + 1), size, all.length, (r) =>
          encodeCursor(kind, r.id),
        );
        seen.push(...conn.edges.map((e) => e.node.id));
        if (!conn.pageInfo.hasNextPage) break;
        after = conn.pageInfo.endCursor;
      }
      expect(seen).toEqual(all.map((r) => r.id));
    });
  });
});

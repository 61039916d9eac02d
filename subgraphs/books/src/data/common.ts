import { badInput, isUuid } from '@shelfwise/kit';
import { Prisma } from '../generated/prisma/client.js';

/** Any statement runner: the client itself or an interactive transaction. */
export type Tx = Prisma.TransactionClient;

/**
 * Options for the short write transactions of this subgraph. Allocations may queue for a pooled
 * connection when many arrive at once (50 patrons after the last copy), so waiting for one is allowed
 * longer than Prisma's 2 s default; the work itself is a handful of statements.
 */
export const TX_OPTIONS = { maxWait: 15_000, timeout: 15_000 } as const;

/** BAD_USER_INPUT unless `id` is a UUID (every Shelfwise id is one). */
export function requireUuid(id: string, what: string, field: string): string {
  if (!isUuid(id)) throw badInput(`"${id}" is not a valid ${what} id.`, { field });
  return id.toLowerCase();
}

/** A unique index refused a row: through the query builder (P2002) or in raw SQL (SQLSTATE 23505). */
export function isUniqueViolation(err: unknown): boolean {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError)) return false;
  if (err.code === 'P2002') return true;
  return err.code === 'P2010' && JSON.stringify(err.meta ?? {}).includes('23505');
}

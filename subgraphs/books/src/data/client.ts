import { openServiceDatabase, type ServiceDatabase, type ServiceOptions } from '@shelfwise/kit';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

export type BooksDatabase = ServiceDatabase<PrismaClient>;

/** Opens this subgraph's own database (migrations applied) and its Prisma client. */
export function openBooksDatabase(options: ServiceOptions): Promise<BooksDatabase> {
  return openServiceDatabase('books', options, (adapter) => new PrismaClient({ adapter }));
}

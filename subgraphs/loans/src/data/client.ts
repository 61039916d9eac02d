import { openServiceDatabase, type ServiceDatabase, type ServiceOptions } from '@shelfwise/kit';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

export type LoansDatabase = ServiceDatabase<PrismaClient>;

/** Opens this subgraph's own database (migrations applied) and its Prisma client. */
export function openLoansDatabase(options: ServiceOptions): Promise<LoansDatabase> {
  return openServiceDatabase('loans', options, (adapter) => new PrismaClient({ adapter }));
}

import { openServiceDatabase, type ServiceDatabase, type ServiceOptions } from '@shelfwise/kit';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

export type PaymentsDatabase = ServiceDatabase<PrismaClient>;

/** Opens this subgraph's own database (migrations applied) and its Prisma client. */
export function openPaymentsDatabase(options: ServiceOptions): Promise<PaymentsDatabase> {
  return openServiceDatabase('payments', options, (adapter) => new PrismaClient({ adapter }));
}

import { openServiceDatabase, type ServiceDatabase, type ServiceOptions } from '@shelfwise/kit';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

export type UsersDatabase = ServiceDatabase<PrismaClient>;

/** Opens this subgraph's own database (migrations applied) and its Prisma client. */
export function openUsersDatabase(options: ServiceOptions): Promise<UsersDatabase> {
  return openServiceDatabase('users', options, (adapter) => new PrismaClient({ adapter }));
}

import { openServiceDatabase, type ServiceDatabase, type ServiceOptions } from '@shelfwise/kit';
import { PrismaClient } from '../generated/prisma/client.js';

type Adapter = Parameters<Parameters<typeof openServiceDatabase>[2]>[0];

/**
 * The users client leaves `passwordHash` out of every query unless the query asks for it by name
 * (`omit: { passwordHash: false }`), so a password hash cannot reach a resolver by accident.
 */
function createUsersClient(adapter: Adapter) {
  return new PrismaClient({ adapter, omit: { user: { passwordHash: true } } });
}

export type UsersPrisma = ReturnType<typeof createUsersClient>;

export type UsersDatabase = ServiceDatabase<UsersPrisma>;

/** Opens this subgraph's own database (migrations applied) and its Prisma client. */
export function openUsersDatabase(options: ServiceOptions): Promise<UsersDatabase> {
  return openServiceDatabase('users', options, createUsersClient);
}

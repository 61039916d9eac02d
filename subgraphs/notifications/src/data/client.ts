import { openServiceDatabase, type ServiceDatabase, type ServiceOptions } from '@shelfwise/kit';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

export type NotificationsDatabase = ServiceDatabase<PrismaClient>;

/** Opens this subgraph's own database (migrations applied) and its Prisma client. */
export function openNotificationsDatabase(options: ServiceOptions): Promise<NotificationsDatabase> {
  return openServiceDatabase('notifications', options, (adapter) => new PrismaClient({ adapter }));
}

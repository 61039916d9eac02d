import { openDatabase, migrationsDirFor, type Database, type ServiceOptions } from '@shelfwise/kit';
import { PrismaClient } from '../generated/prisma/client.js';

export type { PrismaClient };

export interface NotificationsDatabase {
  db: Database;
  prisma: PrismaClient;
  close(): Promise<void>;
}

/** Opens this subgraph's own database (migrations applied) and its Prisma client. */
export async function openNotificationsDatabase(options: ServiceOptions): Promise<NotificationsDatabase> {
  const db = await openDatabase({
    service: 'notifications',
    migrationsDir: migrationsDirFor('notifications'),
    databaseUrl: options.databaseUrl,
    databaseName: options.databaseName,
    dataDir: options.dataDir,
    logger: options.logger,
  });
  const prisma = new PrismaClient({ adapter: db.adapter });
  return {
    db,
    prisma,
    async close() {
      await prisma.$disconnect();
      await db.close();
    },
  };
}

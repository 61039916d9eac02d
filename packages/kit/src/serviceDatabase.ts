import type { SqlDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { openDatabase, type Database } from './db.js';
import { migrationsDirFor, type ServiceOptions } from './runtime.js';
import type { SubgraphName } from './services.js';

/** A subgraph's own database (migrations applied) with its generated Prisma client on top. */
export interface ServiceDatabase<TClient> {
  db: Database;
  prisma: TClient;
  /** Disconnects the client, then closes the pool or the embedded database. */
  close(): Promise<void>;
}

/**
 * Opens `service`'s database as the options say (Postgres or PGlite, see {@link openDatabase}) and
 * builds the subgraph's own Prisma client on it: `createClient` is `(adapter) => new PrismaClient({ adapter })`
 * with the subgraph's generated class, which the kit cannot import itself.
 */
export async function openServiceDatabase<TClient extends { $disconnect(): Promise<void> }>(
  service: SubgraphName,
  options: ServiceOptions,
  createClient: (adapter: SqlDriverAdapterFactory) => TClient,
): Promise<ServiceDatabase<TClient>> {
  const db = await openDatabase({
    service,
    migrationsDir: migrationsDirFor(service),
    databaseUrl: options.databaseUrl,
    databaseName: options.databaseName,
    dataDir: options.dataDir,
    poolSize: options.poolSize,
    logger: options.logger,
  });
  const prisma = createClient(db.adapter);
  return {
    db,
    prisma,
    async close() {
      await prisma.$disconnect();
      await db.close();
    },
  };
}

/**
 * The books database that `npm run seed` and `npm run import` write to: the books subgraph's own database
 * on DATABASE_URL's server (created and migrated when missing), or the embedded PGlite under
 * SHELFWISE_DATA_DIR/books when DATABASE_URL is unset, exactly as the subgraph itself would open it.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { SqlRunner } from '@shelfwise/books/catalog';
import {
  applyMigrations,
  databaseNameFor,
  databaseUrlFor,
  ensureDatabase,
  getEnvOptional,
  getEnvStr,
  migrationsDirFor,
  pgliteSession,
  repoPath,
  type SqlSession,
} from '@shelfwise/kit';
import pg from 'pg';

export interface BooksTarget {
  /** Where the rows go, for messages: a database name or a folder. */
  describe: string;
  run: SqlRunner;
  /** How many statements may run at once (a pool on PostgreSQL; PGlite is one connection). */
  parallel: number;
  /** Runs `work` in one transaction on one connection: everything it did is undone if it throws. */
  transaction<T>(work: (run: SqlRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface TargetOptions {
  /** PostgreSQL server URL; default DATABASE_URL. */
  databaseUrl?: string;
  /** Database name on that server; default shelfwise_books. */
  databaseName?: string;
  /** PGlite folder when there is no server (`memory://` for a throw-away one); default SHELFWISE_DATA_DIR/books. */
  dataDir?: string;
}

function pgSession(client: pg.ClientBase): SqlSession {
  return {
    query: async <T extends Record<string, unknown>>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
    exec: async (script: string) => {
      await client.query(script);
    },
  };
}

/** Opens the books database (applying any pending migrations first). */
export async function openBooksTarget(options: TargetOptions = {}): Promise<BooksTarget> {
  // An explicit dataDir means the embedded database, whatever DATABASE_URL says.
  const serverUrl = options.databaseUrl ?? (options.dataDir ? undefined : getEnvOptional('DATABASE_URL'));
  const migrations = migrationsDirFor('books');
  if (serverUrl) {
    const database = options.databaseName ?? databaseNameFor('books');
    await ensureDatabase(serverUrl, database);
    const connectionString = databaseUrlFor(serverUrl, database);
    const migrator = new pg.Client({ connectionString });
    await migrator.connect();
    try {
      await applyMigrations(pgSession(migrator), migrations);
    } finally {
      await migrator.end();
    }
    // No JIT: its compile time (seconds) dwarfs a batch insert whose row estimates make the planner reach for it.
    const pool = new pg.Pool({ connectionString, max: 2, options: '-c jit=off' });
    return {
      describe: `PostgreSQL database ${database}`,
      run: async (sql, params) => (await pool.query(sql, params)).rows as Record<string, unknown>[],
      parallel: 2,
      async transaction(work) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const result = await work(async (sql, params) => (await client.query(sql, params)).rows as Record<string, unknown>[]);
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw err;
        } finally {
          client.release();
        }
      },
      close: () => pool.end(),
    };
  }
  const dataDir = options.dataDir ?? path.join(getEnvStr('SHELFWISE_DATA_DIR', repoPath('.data')), 'books');
  if (!dataDir.startsWith('memory://')) await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir, { extensions: { pg_trgm } });
  await applyMigrations(pgliteSession(db), migrations);
  return {
    describe: `embedded database in ${path.relative(process.cwd(), dataDir) || dataDir}`,
    run: async (sql, params) => (await db.query<Record<string, unknown>>(sql, params)).rows,
    parallel: 1,
    transaction: (work) => db.transaction((tx) => work(async (sql, params) => (await tx.query<Record<string, unknown>>(sql, params)).rows)),
    close: () => db.close(),
  };
}

import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PrismaPg } from '@prisma/adapter-pg';
import type { SqlDriverAdapter, SqlDriverAdapterFactory, Transaction } from '@prisma/driver-adapter-utils';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { Logger } from './logger.js';
import { applyMigrations, type MigrationResult, type SqlSession } from './migrations.js';

export interface DatabaseOptions {
  /** The owning service, e.g. `books`. Names the database (`shelfwise_books`) and the log lines. */
  service: string;
  /** Folder of committed Prisma migrations (`prisma/<service>/migrations`). */
  migrationsDir: string;
  /**
   * A PostgreSQL server URL. When set, the service uses its own database on that server (created when
   * missing); when unset, an embedded PGlite.
   */
  databaseUrl?: string;
  /** Overrides the database name on the server (tests use one fresh database per file). */
  databaseName?: string;
  /** PGlite data folder; unset means in memory (tests). */
  dataDir?: string;
  /** Connection pool size on PostgreSQL. */
  poolSize?: number;
  logger?: Logger;
}

/** Counts every SQL statement Prisma sends, so tests can assert cost in statements, never in time. */
export interface SqlStats {
  statements: number;
}

export interface Database {
  kind: 'postgres' | 'pglite';
  /** Pass to the service's own generated client: `new PrismaClient({ adapter: db.adapter })`. */
  adapter: SqlDriverAdapterFactory;
  stats: SqlStats;
  migrations: MigrationResult;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export function databaseNameFor(service: string): string {
  return `shelfwise_${service}`;
}

/** The URL of `database` on the same server as `serverUrl`. */
export function databaseUrlFor(serverUrl: string, database: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Creates `database` on the server when it does not exist; safe when several instances race. */
export async function ensureDatabase(serverUrl: string, database: string): Promise<boolean> {
  if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`Refusing to create a database with the name "${database}".`);
  const admin = new pg.Client({ connectionString: databaseUrlFor(serverUrl, 'postgres') });
  await admin.connect();
  try {
    const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (found.rowCount) return false;
    try {
      await admin.query(`CREATE DATABASE "${database}"`);
      return true;
    } catch (err) {
      // 42P04 duplicate_database, 23505 unique_violation: another instance created it first.
      const code = (err as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw err;
    }
  } finally {
    await admin.end();
  }
}

/** Drops a database (tests only). */
export async function dropDatabase(serverUrl: string, database: string): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrlFor(serverUrl, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

function pgSession(client: pg.ClientBase): SqlSession {
  return {
    async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []) {
      return (await client.query(sql, params)).rows as T[];
    },
    async exec(script: string) {
      await client.query(script);
    },
  };
}

/** A PGlite database as a migration session. */
export function pgliteSession(db: PGlite): SqlSession {
  return {
    async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []) {
      return (await db.query<T>(sql, params)).rows;
    },
    async exec(script: string) {
      await db.exec(script);
    },
  };
}

function countQueries<T extends SqlDriverAdapter | Transaction>(target: T, stats: SqlStats): T {
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value = Reflect.get(obj, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      if (prop === 'queryRaw' || prop === 'executeRaw') {
        return (...args: unknown[]) => {
          stats.statements += 1;
          return (value as (...a: unknown[]) => unknown).apply(obj, args);
        };
      }
      if (prop === 'startTransaction') {
        return async (...args: unknown[]) =>
          countQueries(await (value as (...a: unknown[]) => Promise<Transaction>).apply(obj, args), stats);
      }
      return (value as (...a: unknown[]) => unknown).bind(obj);
    },
  });
}

function countingFactory(factory: SqlDriverAdapterFactory, stats: SqlStats): SqlDriverAdapterFactory {
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => countQueries(await factory.connect(), stats),
  };
}

/**
 * Opens a service's own database: PostgreSQL through @prisma/adapter-pg when `databaseUrl` is set,
 * otherwise an embedded PGlite (with pg_trgm). Either way the committed migrations are applied first.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const stats: SqlStats = { statements: 0 };
  if (options.databaseUrl) {
    const database = options.databaseName ?? databaseNameFor(options.service);
    if (await ensureDatabase(options.databaseUrl, database)) options.logger?.info({ database }, 'created database');
    const connectionString = databaseUrlFor(options.databaseUrl, database);
    const migrator = new pg.Client({ connectionString });
    await migrator.connect();
    let migrations: MigrationResult;
    try {
      migrations = await applyMigrations(pgSession(migrator), options.migrationsDir, options.logger);
    } finally {
      await migrator.end();
    }
    const pool = new pg.Pool({ connectionString, max: options.poolSize ?? 10 });
    pool.on('error', (err) => options.logger?.warn({ err: { message: err.message } }, 'idle postgres connection failed'));
    return {
      kind: 'postgres',
      adapter: countingFactory(new PrismaPg(pool), stats),
      stats,
      migrations,
      async ping() {
        await pool.query('SELECT 1');
      },
      async close() {
        await pool.end();
      },
    };
  }

  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const pglite = await PGlite.create(options.dataDir ?? 'memory://', { extensions: { pg_trgm } });
  const migrations = await applyMigrations(pgliteSession(pglite), options.migrationsDir, options.logger);
  return {
    kind: 'pglite',
    adapter: countingFactory(new PrismaPGlite(pglite), stats),
    stats,
    migrations,
    async ping() {
      await pglite.query('SELECT 1');
    },
    async close() {
      if (!pglite.closed) await pglite.close();
    },
  };
}

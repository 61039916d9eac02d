import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from './logger.js';

/** The minimal SQL surface the migration runner needs; implemented over pg and PGlite. */
export interface SqlSession {
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements (no parameters). */
  exec(script: string): Promise<void>;
}

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

/** Prisma's own bookkeeping table, created exactly as `prisma migrate deploy` creates it. */
const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);`;

/** Arbitrary but fixed: every instance of every service takes the same advisory lock key in its own database. */
const MIGRATION_LOCK_KEY = 72_707_369;

/** sha256 of the file's bytes, hex: the checksum Prisma records. */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** Reads `<dir>/<name>/migration.sql` for every migration folder, in name order (Prisma's order). */
export async function readMigrations(dir: string): Promise<MigrationFile[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const files: MigrationFile[] = [];
  for (const name of names) {
    const sql = await readFile(path.join(dir, name, 'migration.sql'), 'utf8');
    files.push({ name, sql, checksum: migrationChecksum(sql) });
  }
  return files;
}

interface AppliedRow extends Record<string, unknown> {
  migration_name: string;
  checksum: string;
  finished_at: Date | string | null;
  rolled_back_at: Date | string | null;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

/**
 * Applies the committed migrations that the database has not recorded yet, each in its own transaction,
 * recording them in `_prisma_migrations` as `prisma migrate deploy` does. A session-level advisory lock
 * makes it safe for several instances to start at once: the second waits, then finds nothing to do.
 * Refuses to continue past a migration that failed earlier or whose file changed after it was applied.
 */
export async function applyMigrations(session: SqlSession, dir: string, logger?: Logger): Promise<MigrationResult> {
  const migrations = await readMigrations(dir);
  await session.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    await session.exec(CREATE_MIGRATIONS_TABLE);
    const rows = await session.query<AppliedRow>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at',
    );
    const result: MigrationResult = { applied: [], alreadyApplied: [] };
    for (const migration of migrations) {
      const records = rows.filter((r) => r.migration_name === migration.name && r.rolled_back_at === null);
      if (records.some((r) => r.finished_at === null)) {
        throw new Error(
          `Migration ${migration.name} failed earlier and was not rolled back. Fix the database by hand, then mark it rolled back (set rolled_back_at) before starting again.`,
        );
      }
      const done = records.find((r) => r.finished_at !== null);
      if (done) {
        if (done.checksum !== migration.checksum) {
          throw new Error(
            `Migration ${migration.name} was changed after it was applied. Never edit an applied migration; write a new one (npm run migrate:new).`,
          );
        }
        result.alreadyApplied.push(migration.name);
        continue;
      }
      const id = randomUUID();
      await session.query(
        'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)',
        [id, migration.checksum, migration.name],
      );
      try {
        await session.exec(`BEGIN;\n${migration.sql}\n;COMMIT;`);
      } catch (err) {
        await session.exec('ROLLBACK;').catch(() => undefined);
        const message = err instanceof Error ? err.message : String(err);
        await session.query('UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1', [id, message]);
        throw new Error(`Migration ${migration.name} failed: ${message}`, { cause: err });
      }
      await session.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
      logger?.info({ migration: migration.name }, 'applied migration');
      result.applied.push(migration.name);
    }
    return result;
  } finally {
    await session.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
  }
}

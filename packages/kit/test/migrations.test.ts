/**
 * The kit's migration runner (applyMigrations, run by openDatabase at every service start) on PGlite and
 * on a real PostgreSQL: order, Prisma's bookkeeping table, idempotence, refusals, and instances racing.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { applyMigrations, databaseUrlFor, ensureDatabase, openDatabase, pgliteSession, type SqlSession } from '@shelfwise/kit';
import { dropTestDatabase, freshDatabaseName, hasPostgres, TEST_DATABASE_URL } from '@shelfwise/testkit';
import pg from 'pg';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;

/** A migrations folder in the OS temp dir, laid out as prisma/<name>/migrations is. */
async function migrationsFolder(migrations: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shelfwise-migrations-'));
  await writeFile(path.join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  for (const [name, sql] of Object.entries(migrations)) await addMigration(dir, name, sql);
  return dir;
}

async function addMigration(dir: string, name: string, sql: string): Promise<void> {
  await mkdir(path.join(dir, name), { recursive: true });
  await writeFile(path.join(dir, name, 'migration.sql'), sql);
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

// Folder names sort in the order they must apply; each migration depends on the one before it.
const M1 = '0001_init';
const M2 = '20250101000000_add_pages';
const M3 = '20250102000000_seed';
const SQL1 =
  '-- CreateTable\nCREATE TABLE "Book" (\n    "id" INTEGER NOT NULL,\n    "title" TEXT NOT NULL,\n\n    CONSTRAINT "Book_pkey" PRIMARY KEY ("id")\n);\n';
const SQL2 = '-- AlterTable\nALTER TABLE "Book" ADD COLUMN     "pages" INTEGER NOT NULL DEFAULT 0;\n';
const SQL3 = `INSERT INTO "Book" ("id", "title", "pages") VALUES (1, 'Dune', 412);\n`;

interface MigrationRow extends Record<string, unknown> {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

/** One database under test, reached through the same SqlSession the runner uses. */
interface TestDatabase {
  session: SqlSession;
  close(): Promise<void>;
}

const rowsOf = (db: TestDatabase) =>
  db.session.query<MigrationRow>('SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name');

/** The behaviour both engines must share; `open` gives a fresh, empty database per test. */
function runnerContract(open: () => Promise<TestDatabase>) {
  let db: TestDatabase;
  const dirs: string[] = [];
  const folder = async (migrations: Record<string, string>) => {
    const dir = await migrationsFolder(migrations);
    dirs.push(dir);
    return dir;
  };

  beforeEach(async () => {
    db = await open();
  });
  afterEach(async () => {
    await db.close();
  });
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('applies the migrations in name order and records them as prisma migrate deploy does', async () => {
    const dir = await folder({ [M3]: SQL3, [M1]: SQL1, [M2]: SQL2 });
    const result = await applyMigrations(db.session, dir);
    expect(result).toEqual({ applied: [M1, M2, M3], alreadyApplied: [] });
    expect(await db.session.query('SELECT id, title, pages FROM "Book"')).toEqual([{ id: 1, title: 'Dune', pages: 412 }]);

    const columns = await db.session.query<{ column_name: string; data_type: string; is_nullable: string }>(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
    );
    expect(columns).toEqual([
      { column_name: 'id', data_type: 'character varying', is_nullable: 'NO' },
      { column_name: 'checksum', data_type: 'character varying', is_nullable: 'NO' },
      { column_name: 'finished_at', data_type: 'timestamp with time zone', is_nullable: 'YES' },
      { column_name: 'migration_name', data_type: 'character varying', is_nullable: 'NO' },
      { column_name: 'logs', data_type: 'text', is_nullable: 'YES' },
      { column_name: 'rolled_back_at', data_type: 'timestamp with time zone', is_nullable: 'YES' },
      { column_name: 'started_at', data_type: 'timestamp with time zone', is_nullable: 'NO' },
      { column_name: 'applied_steps_count', data_type: 'integer', is_nullable: 'NO' },
    ]);

    const rows = await rowsOf(db);
    expect(rows.map((r) => r.migration_name)).toEqual([M1, M2, M3]);
    expect(rows.map((r) => r.checksum)).toEqual([sha256(SQL1), sha256(SQL2), sha256(SQL3)]);
    for (const row of rows) {
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.finished_at!.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
      expect(row).toMatchObject({ logs: null, rolled_back_at: null, applied_steps_count: 1 });
    }
  });

  it('applies nothing the second time, and only the new migration once one is added', async () => {
    const dir = await folder({ [M1]: SQL1, [M2]: SQL2 });
    await applyMigrations(db.session, dir);
    expect(await applyMigrations(db.session, dir)).toEqual({ applied: [], alreadyApplied: [M1, M2] });
    expect(await rowsOf(db)).toHaveLength(2);

    await addMigration(dir, M3, SQL3);
    expect(await applyMigrations(db.session, dir)).toEqual({ applied: [M3], alreadyApplied: [M1, M2] });
    expect((await rowsOf(db)).map((r) => r.migration_name)).toEqual([M1, M2, M3]);
  });

  it('refuses to start when an applied migration was edited, and applies nothing after it', async () => {
    const dir = await folder({ [M1]: SQL1 });
    await applyMigrations(db.session, dir);
    await addMigration(dir, M1, SQL1.replace('"title" TEXT NOT NULL', '"title" VARCHAR(200) NOT NULL'));
    await addMigration(dir, M2, SQL2);

    await expect(applyMigrations(db.session, dir)).rejects.toThrow(
      `Migration ${M1} was changed after it was applied. Never edit an applied migration; write a new one (npm run migrate:new).`,
    );
    expect((await rowsOf(db)).map((r) => r.migration_name)).toEqual([M1]);
    const pages = await db.session.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'Book' AND column_name = 'pages'`);
    expect(pages).toEqual([]);
  });

  it('records a failing migration, rolls its statements back, and blocks later starts until it is resolved', async () => {
    const failing =
      '-- AlterTable\nALTER TABLE "Book" ADD COLUMN     "pages" INTEGER;\nALTER TABLE "Book" ADD COLUMN "oops" NO_SUCH_TYPE;\n';
    const dir = await folder({ [M1]: SQL1, [M2]: failing, [M3]: SQL3 });

    await expect(applyMigrations(db.session, dir)).rejects.toThrow(`Migration ${M2} failed: type "no_such_type" does not exist`);
    const rows = await rowsOf(db);
    expect(rows.map((r) => [r.migration_name, r.finished_at === null])).toEqual([
      [M1, false],
      [M2, true],
    ]);
    expect(rows[1]).toMatchObject({
      checksum: sha256(failing),
      logs: 'type "no_such_type" does not exist',
      rolled_back_at: null,
      applied_steps_count: 0,
    });
    // The migration ran in one transaction: its first statement did not stay behind.
    expect(await db.session.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'Book' AND column_name = 'pages'`)).toEqual(
      [],
    );

    // The next start refuses, naming the migration and what to do, even with the file fixed.
    await addMigration(dir, M2, SQL2);
    await expect(applyMigrations(db.session, dir)).rejects.toThrow(
      `Migration ${M2} failed earlier and was not rolled back. Fix the database by hand, then mark it rolled back (set rolled_back_at) before starting again.`,
    );
    expect(await rowsOf(db)).toHaveLength(2);

    // The documented way out (docs/migrations.md): mark the failed attempt rolled back, start again.
    await db.session.query(`UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = $1 AND finished_at IS NULL`, [
      M2,
    ]);
    expect(await applyMigrations(db.session, dir)).toEqual({ applied: [M2, M3], alreadyApplied: [M1] });
    const after = await rowsOf(db);
    expect(after.filter((r) => r.migration_name === M2).map((r) => [r.finished_at === null, r.rolled_back_at === null])).toEqual([
      [true, false],
      [false, true],
    ]);
  });
}

describe('migration runner on PGlite', () => {
  // initdb takes seconds; a dump of a fresh database loads in a fraction of that.
  let emptyDataDir: Blob;
  beforeAll(async () => {
    const template = await PGlite.create('memory://');
    emptyDataDir = await template.dumpDataDir('none');
    await template.close();
  });

  runnerContract(async () => {
    const db = await PGlite.create({ loadDataDir: emptyDataDir });
    return { session: pgliteSession(db), close: () => db.close() };
  });

  it('is what openDatabase runs for an embedded database', async () => {
    const dir = await migrationsFolder({ [M1]: SQL1, [M2]: SQL2 });
    try {
      const database = await openDatabase({ service: 'migrations-test', migrationsDir: dir });
      try {
        expect(database.kind).toBe('pglite');
        expect(database.migrations).toEqual({ applied: [M1, M2], alreadyApplied: [] });
      } finally {
        await database.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

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

async function connect(database: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrlFor(TEST_DATABASE_URL, database) });
  await client.connect();
  return client;
}

async function databaseExists(database: string): Promise<boolean> {
  const admin = await connect('postgres');
  try {
    return ((await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])).rowCount ?? 0) > 0;
  } finally {
    await admin.end();
  }
}

describePg('migration runner on PostgreSQL', () => {
  const databases: string[] = [];
  const fresh = () => {
    const name = freshDatabaseName('kit_migrations');
    databases.push(name);
    return name;
  };
  afterAll(async () => {
    for (const name of databases) await dropTestDatabase(name);
  });

  runnerContract(async () => {
    const name = fresh();
    await ensureDatabase(TEST_DATABASE_URL, name);
    const client = await connect(name);
    return { session: pgSession(client), close: () => client.end() };
  });

  it('lets two instances starting at once on a fresh database apply each migration exactly once', async () => {
    // The second statement keeps the first instance inside the lock a while, so the other really waits.
    const dir = await migrationsFolder({ [M1]: `${SQL1}SELECT pg_sleep(0.3);\n`, [M2]: SQL2, [M3]: SQL3 });
    const name = fresh();
    await ensureDatabase(TEST_DATABASE_URL, name);
    const [a, b] = await Promise.all([connect(name), connect(name)]);
    try {
      const results = await Promise.all([applyMigrations(pgSession(a), dir), applyMigrations(pgSession(b), dir)]);
      expect(results.flatMap((r) => r.applied).sort()).toEqual([M1, M2, M3]);
      expect(results.map((r) => [...r.applied, ...r.alreadyApplied].sort())).toEqual([
        [M1, M2, M3],
        [M1, M2, M3],
      ]);
      const rows = await pgSession(a).query<MigrationRow>(
        'SELECT migration_name, finished_at FROM "_prisma_migrations" ORDER BY migration_name',
      );
      expect(rows.map((r) => r.migration_name)).toEqual([M1, M2, M3]);
      expect(rows.every((r) => r.finished_at !== null)).toBe(true);
      expect(await pgSession(a).query('SELECT count(*)::int AS n FROM "Book"')).toEqual([{ n: 1 }]);
    } finally {
      await Promise.all([a.end(), b.end()]);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lets two services open the same missing database at once: created once, each migration applied once', async () => {
    const dir = await migrationsFolder({ [M1]: `${SQL1}SELECT pg_sleep(0.3);\n`, [M2]: SQL2, [M3]: SQL3 });
    const name = fresh();
    expect(await databaseExists(name)).toBe(false);
    const open = () =>
      openDatabase({ service: 'migrations-test', migrationsDir: dir, databaseUrl: TEST_DATABASE_URL, databaseName: name, poolSize: 1 });
    const [first, second] = await Promise.all([open(), open()]);
    try {
      expect([first.kind, second.kind]).toEqual(['postgres', 'postgres']);
      expect([...first.migrations.applied, ...second.migrations.applied].sort()).toEqual([M1, M2, M3]);
      const client = await connect(name);
      try {
        const rows = await pgSession(client).query<MigrationRow>('SELECT migration_name FROM "_prisma_migrations" ORDER BY migration_name');
        expect(rows.map((r) => r.migration_name)).toEqual([M1, M2, M3]);
      } finally {
        await client.end();
      }
    } finally {
      await Promise.all([first.close(), second.close()]);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('ensureDatabase creates a missing database once, also when several callers race', async () => {
    const name = fresh();
    expect(await ensureDatabase(TEST_DATABASE_URL, name)).toBe(true);
    expect(await databaseExists(name)).toBe(true);
    expect(await ensureDatabase(TEST_DATABASE_URL, name)).toBe(false);

    const raced = fresh();
    const created = await Promise.all(Array.from({ length: 4 }, () => ensureDatabase(TEST_DATABASE_URL, raced)));
    expect(created.filter(Boolean)).toHaveLength(1);
    expect(await databaseExists(raced)).toBe(true);
  });

  it('ensureDatabase refuses a name it would have to quote', async () => {
    await expect(ensureDatabase(TEST_DATABASE_URL, 'bad"; DROP DATABASE postgres; --')).rejects.toThrow(
      'Refusing to create a database with the name',
    );
  });
});

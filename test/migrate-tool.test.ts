/**
 * scripts/migrate.ts (`migrate new`, `migrate check`): its functions on temporary copies of prisma/books,
 * and the command line itself for exit codes and messages. No database server and no network involved.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openScratchEngine, type ScratchEngine } from '../scripts/migrate/engine.js';
import {
  checkSubgraph,
  checkSubgraphs,
  dataLossWarnings,
  MIGRATION_LOCK_TOML,
  migrationTimestamp,
  MigrateUsageError,
  newMigration,
  validateMigrationName,
} from '../scripts/migrate/tool.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** A frozen copy of books (schema + first migration): the tool tests' fixture, independent of the real books. */
const FIXTURE = path.join(REPO, 'test/fixtures/migrate-books');
const BOOKS_INIT = path.join(FIXTURE, 'migrations/0001_init/migration.sql');

/** A field books does not have yet, added where a developer would add it. */
const addSubtitle = (schema: string) => schema.replace(/^(\s*title\s+String)$/m, '$1\n  subtitle      String?');

let engine: ScratchEngine;
const roots: string[] = [];

/** A temporary tree with prisma/<name>/ copied from prisma/books (migrations included unless told). */
async function tempRoot(subgraphs: Record<string, { migrations?: boolean; edit?: (schema: string) => string }>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'shelfwise-migrate-'));
  roots.push(root);
  for (const [name, { migrations = true, edit = (s: string) => s }] of Object.entries(subgraphs)) {
    const dir = path.join(root, 'prisma', name);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'schema.prisma'), edit(await readFile(path.join(FIXTURE, 'schema.prisma'), 'utf8')));
    if (migrations) await cp(path.join(FIXTURE, 'migrations'), path.join(dir, 'migrations'), { recursive: true });
  }
  return root;
}

/** Each engine call builds scratch databases (seconds each on a busy machine): generous limits, no timing asserts. */
const SLOW = 180_000;

beforeAll(async () => {
  engine = await openScratchEngine();
}, SLOW);
afterAll(async () => {
  await engine?.close();
  await Promise.all(roots.map((r) => rm(r, { recursive: true, force: true })));
});

describe('migrate check', () => {
  it(
    "passes on the repository's books subgraph",
    async () => {
      const [books] = await checkSubgraphs(REPO, ['books'], { engine });
      const folders = (await readdir(path.join(REPO, 'prisma/books/migrations'), { withFileTypes: true })).filter((e) => e.isDirectory());
      expect(books).toEqual({ subgraph: 'books', ok: true, migrations: folders.length, problems: [], sql: null });
    },
    SLOW,
  );

  it(
    'fails when schema.prisma has a field no migration creates, showing the SQL needed',
    async () => {
      const root = await tempRoot({ books: { edit: addSubtitle } });
      const result = await checkSubgraph(root, 'books', { engine });
      expect(result).toEqual({
        subgraph: 'books',
        ok: false,
        migrations: 1,
        problems: [],
        sql: '-- AlterTable\nALTER TABLE "Book" ADD COLUMN     "subtitle" TEXT;\n',
      });
    },
    SLOW,
  );

  it(
    'fails when a migration creates something schema.prisma does not describe',
    async () => {
      const root = await tempRoot({ books: {} });
      await mkdir(path.join(root, 'prisma/books/migrations/20250101000000_stray_index'));
      await writeFile(
        path.join(root, 'prisma/books/migrations/20250101000000_stray_index/migration.sql'),
        'CREATE INDEX "Book_language_idx" ON "Book"("language");\n',
      );
      const result = await checkSubgraph(root, 'books', { engine });
      expect(result.ok).toBe(false);
      expect(result.sql).toBe('-- DropIndex\nDROP INDEX "Book_language_idx";\n');
    },
    SLOW,
  );

  it(
    'names a migration folder without migration.sql and a missing migration_lock.toml',
    async () => {
      const root = await tempRoot({ books: {} });
      await mkdir(path.join(root, 'prisma/books/migrations/20250101000000_forgotten'));
      await rm(path.join(root, 'prisma/books/migrations/migration_lock.toml'));
      const result = await checkSubgraph(root, 'books', { engine });
      expect(result.ok).toBe(false);
      expect(result.problems).toEqual([
        'prisma/books/migrations/migration_lock.toml is missing (commit it with the migrations; it must say provider = "postgresql").',
        'prisma/books/migrations/20250101000000_forgotten has no migration.sql (every migration folder needs one; delete the folder if it is left over).',
      ]);
    },
    SLOW,
  );

  it(
    'names the migration that does not apply',
    async () => {
      const root = await tempRoot({ books: {} });
      await mkdir(path.join(root, 'prisma/books/migrations/20250101000000_broken'));
      await writeFile(
        path.join(root, 'prisma/books/migrations/20250101000000_broken/migration.sql'),
        'ALTER TABLE "Boook" ADD COLUMN "x" TEXT;\n',
      );
      const result = await checkSubgraph(root, 'books', { engine });
      expect(result.ok).toBe(false);
      expect(result.problems).toHaveLength(1);
      expect(result.problems[0]).toContain('Migration `20250101000000_broken` failed to apply cleanly to the shadow database.');
      expect(result.problems[0]).toContain('No such table: Boook');
    },
    SLOW,
  );

  it(
    "fails when the services' runner would refuse a migration the engine accepts",
    async () => {
      // CREATE INDEX CONCURRENTLY cannot run inside the transaction the kit wraps each migration in.
      const root = await tempRoot({ books: { edit: (s) => s.replace('@@index([title])', '@@index([title])\n  @@index([language])') } });
      await mkdir(path.join(root, 'prisma/books/migrations/20250101000000_language_idx'));
      await writeFile(
        path.join(root, 'prisma/books/migrations/20250101000000_language_idx/migration.sql'),
        'CREATE INDEX CONCURRENTLY "Book_language_idx" ON "Book"("language");\n',
      );
      const result = await checkSubgraph(root, 'books', { engine });
      expect(result.sql).toBeNull();
      expect(result.ok).toBe(false);
      expect(result.problems).toEqual([
        "The services' migration runner cannot apply them: Migration 20250101000000_language_idx failed: CREATE INDEX CONCURRENTLY cannot run inside a transaction block",
      ]);
    },
    SLOW,
  );

  it('refuses an unknown subgraph', async () => {
    await expect(checkSubgraphs(REPO, ['nope'], { engine })).rejects.toThrow(
      'Unknown subgraph "nope": there is no prisma/nope/schema.prisma.',
    );
  });
});

describe('migrate new', () => {
  const now = new Date(Date.UTC(2025, 0, 2, 3, 4, 5));

  it(
    'writes the migration for an added field, named as Prisma names it, after which check passes',
    async () => {
      const root = await tempRoot({ books: { edit: addSubtitle } });
      expect((await checkSubgraph(root, 'books', { engine })).ok).toBe(false);

      const result = await newMigration(root, 'books', 'add_book_subtitle', { engine, now });
      const dir = path.join(root, 'prisma/books/migrations/20250102030405_add_book_subtitle');
      expect(result).toEqual({
        subgraph: 'books',
        dir,
        sql: '-- AlterTable\nALTER TABLE "Book" ADD COLUMN     "subtitle" TEXT;\n',
        warnings: [],
        wroteLock: false,
        verified: { subgraph: 'books', ok: true, migrations: 2, problems: [], sql: null },
      });
      expect(await readFile(path.join(dir, 'migration.sql'), 'utf8')).toBe(result.sql);
      expect(await checkSubgraph(root, 'books', { engine })).toMatchObject({ ok: true, migrations: 2 });

      const again = await newMigration(root, 'books', 'nothing_left', { engine, now: new Date(now.getTime() + 1000) });
      expect(again.dir).toBeNull();
      expect(await readdir(path.join(root, 'prisma/books/migrations'))).toEqual([
        '0001_init',
        '20250102030405_add_book_subtitle',
        'migration_lock.toml',
      ]);
    },
    SLOW,
  );

  it(
    "writes the first migration from an empty database: the same SQL as books' 0001_init, and the lock",
    async () => {
      const root = await tempRoot({ books: { migrations: false } });
      const result = await newMigration(root, 'books', 'init', { engine, now });
      expect(result.dir).toBe(path.join(root, 'prisma/books/migrations/20250102030405_init'));
      expect(result.wroteLock).toBe(true);
      expect(result.sql).toBe(await readFile(BOOKS_INIT, 'utf8'));
      expect(await readFile(path.join(root, 'prisma/books/migrations/migration_lock.toml'), 'utf8')).toBe(
        await readFile(path.join(FIXTURE, 'migrations/migration_lock.toml'), 'utf8'),
      );
      expect(result.verified?.ok).toBe(true);
    },
    SLOW,
  );

  it(
    'puts Prisma-style warnings at the top when a step can fail on a table with rows',
    async () => {
      const root = await tempRoot({
        books: { edit: (s) => s.replace(/^(\s*title\s+String)$/m, '$1\n  pages         Int').replace(/^\s*description\s+String\?\n/m, '') },
      });
      const result = await newMigration(root, 'books', 'pages_instead_of_description', { engine, now });
      expect(result.warnings).toEqual([
        'You are about to drop the column `description` on the `Book` table. All the data in the column will be lost.',
        'Added the required column `pages` to the `Book` table without a default value. This is not possible if the table is not empty.',
      ]);
      expect(result.sql).toBe(
        '/*\n  Warnings:\n\n' +
          '  - You are about to drop the column `description` on the `Book` table. All the data in the column will be lost.\n' +
          '  - Added the required column `pages` to the `Book` table without a default value. This is not possible if the table is not empty.\n' +
          '\n*/\n' +
          '-- AlterTable\nALTER TABLE "Book" DROP COLUMN "description",\nADD COLUMN     "pages" INTEGER NOT NULL;\n',
      );
      expect(result.verified?.ok).toBe(true);
    },
    SLOW,
  );

  it(
    'refuses bad names, unknown subgraphs, broken folders and names that would sort first',
    async () => {
      const root = await tempRoot({ books: { edit: addSubtitle } });
      for (const bad of ['Add-Subtitle', 'add subtitle', '', '_x', '../x', 'x'.repeat(201)]) {
        await expect(newMigration(root, 'books', bad, { engine, now })).rejects.toThrow(MigrateUsageError);
      }
      await expect(newMigration(root, 'books', 'Add-Subtitle', { engine, now })).rejects.toThrow('Try "add_subtitle".');
      await expect(newMigration(root, '../books', 'x', { engine, now })).rejects.toThrow('Unknown subgraph "../books"');
      await mkdir(path.join(root, 'prisma/books/migrations/20300101000000_from_the_future'));
      await writeFile(
        path.join(root, 'prisma/books/migrations/20300101000000_from_the_future/migration.sql'),
        '-- This is an empty migration.\n',
      );
      await expect(newMigration(root, 'books', 'add_subtitle', { engine, now })).rejects.toThrow(
        'A migration named 20250102030405_add_subtitle would apply before 20300101000000_from_the_future (migrations apply in name order).',
      );
      await mkdir(path.join(root, 'prisma/books/migrations/20250101000000_forgotten'));
      await expect(newMigration(root, 'books', 'add_subtitle', { engine, now })).rejects.toThrow(
        '20250101000000_forgotten has no migration.sql',
      );
      expect(await readdir(path.join(root, 'prisma/books/migrations'))).toEqual([
        '0001_init',
        '20250101000000_forgotten',
        '20300101000000_from_the_future',
        'migration_lock.toml',
      ]);
    },
    SLOW,
  );

  it(
    'reports an invalid schema.prisma with the line',
    async () => {
      const root = await tempRoot({ books: { edit: (s) => s.replace(/^(\s*title\s+)String$/m, '$1Strin') } });
      await expect(newMigration(root, 'books', 'x', { engine, now })).rejects.toThrow('prisma/books/schema.prisma:');
    },
    SLOW,
  );
});

describe('helpers', () => {
  it('formats the timestamp in UTC as Prisma does', () => {
    expect(migrationTimestamp(new Date('2025-12-31T23:59:58.999Z'))).toBe('20251231235958');
  });

  it('accepts snake_case names', () => {
    expect(() => validateMigrationName('add_book_subtitle')).not.toThrow();
    expect(() => validateMigrationName('2fa')).not.toThrow();
  });

  it('warns about unique indexes on existing tables, dropped tables and enum values removed', () => {
    const sql = [
      '-- DropTable\nDROP TABLE "Old";',
      '-- CreateTable\nCREATE TABLE "New" (\n    "id" UUID NOT NULL,\n    "code" TEXT NOT NULL\n);',
      '-- CreateIndex\nCREATE UNIQUE INDEX "New_code_key" ON "New"("code");',
      '-- CreateIndex\nCREATE UNIQUE INDEX "Book_title_language_key" ON "Book"("title", "language");',
      '-- AlterEnum\nBEGIN;\nCREATE TYPE "CopyStatus_new" AS ENUM (\'AVAILABLE\');',
      'COMMIT;',
      '',
    ].join('\n\n');
    expect(dataLossWarnings(sql)).toEqual([
      'You are about to drop the `Old` table. If the table is not empty, all the data it contains will be lost.',
      'A unique constraint covering the columns `[title,language]` on the table `Book` will be added. If there are existing duplicate values, this will fail.',
      'Values are removed from the enum `CopyStatus`. If rows still use them, this migration will fail.',
    ]);
  });

  it('writes the lock file Prisma writes', () => {
    expect(MIGRATION_LOCK_TOML).toBe(
      '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n',
    );
  });
});

describe('the command line', () => {
  const run = (root: string, ...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', path.join(REPO, 'scripts/migrate.ts'), ...args],
        { cwd: REPO, env: { ...process.env, NODE_OPTIONS: '', MIGRATE_ROOT: root } },
        (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
      );
    });

  it(
    'check exits 1 naming the subgraph that disagrees and the SQL it needs; new writes it; then nothing is left',
    async () => {
      const root = await tempRoot({ books: {}, drifted: { edit: addSubtitle } });
      const check = await run(root, 'check');
      expect(check.code).toBe(1);
      expect(check.stdout).toBe('✓ books: schema.prisma and 1 migration agree\n');
      expect(check.stderr).toContain('✗ drifted: schema.prisma and the migrations disagree');
      expect(check.stderr).toContain('ALTER TABLE "Book" ADD COLUMN     "subtitle" TEXT;');
      expect(check.stderr).toContain('npm run migrate:new -- drifted <name>');
      expect(check.stderr).toContain('1 of 2 subgraphs failed the migration check.');

      const made = await run(root, 'new', 'drifted', 'add_subtitle');
      expect(made.code).toBe(0);
      expect(made.stdout).toMatch(/^Wrote prisma\/drifted\/migrations\/\d{14}_add_subtitle\/migration\.sql:/);

      const none = await run(root, 'new', 'drifted', 'again');
      expect(none).toEqual({ code: 0, stdout: 'No changes: schema.prisma and the migrations agree.\n', stderr: '' });
      expect(await run(root, 'check', 'drifted')).toMatchObject({ code: 0, stdout: '✓ drifted: schema.prisma and 2 migrations agree\n' });
    },
    2 * SLOW,
  );

  it(
    'exits 2 with the reason on a bad name, before starting the engine',
    async () => {
      const root = await tempRoot({ books: {} });
      const bad = await run(root, 'new', 'books', 'Add Subtitle');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('Bad migration name "Add Subtitle"');
      expect(await run(root, 'nonsense')).toMatchObject({ code: 2, stderr: expect.stringContaining('Usage:') });
    },
    SLOW,
  );
});

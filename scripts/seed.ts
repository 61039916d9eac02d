/**
 * `npm run seed -- --books 1000000 [--seed 42] [--batch 5000] [--database shelfwise_books]`
 *
 * Fills the books database with a generated catalogue (subgraphs/books/src/catalog/generate.ts): the same
 * seed always gives the same books, and books already present (same ISBN) are skipped, so running it
 * twice adds nothing and `--books 2000` after `--books 1000` adds the next thousand. Writes to DATABASE_URL's
 * server (database shelfwise_books unless --database) or, without DATABASE_URL, to the embedded database in
 * SHELFWISE_DATA_DIR/books. Progress and rows/s go to stderr; the summary goes to stdout.
 */
import { generateBooks, insertBooks, type SqlRunner } from '@shelfwise/books/catalog';
import { openBooksTarget, type BooksTarget } from './catalog/target.js';

export interface SeedOptions {
  books: number;
  seed: number;
  batch: number;
  /** Called after each batch with the books generated so far. */
  onProgress?: (done: number, inserted: number) => void;
  /** Called when the rows are in and the indexes dropped for a bulk load are being built again. */
  onIndexes?: (count: number) => void;
}

export interface SeedResult {
  generated: number;
  inserted: number;
  copies: number;
  seconds: number;
}

/** From this many books into an empty catalogue, the secondary indexes are built after the load. */
export const BULK_THRESHOLD = 50_000;

/**
 * Generates books 0…books-1 of `seed`'s catalogue into `target`. Into an empty catalogue, a large seed runs
 * as ONE transaction that drops Book's secondary indexes, loads, and builds them again from their own
 * definitions (several times faster than updating a GIN index row by row); if it fails or is interrupted
 * nothing is left half-done. Otherwise batches go in through the pool, `target.parallel` at a time.
 */
export async function seedCatalog(target: BooksTarget, options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const totals = { done: 0, inserted: 0, copies: 0 };
  const load = async (run: SqlRunner, from: number, to: number) => {
    const result = await insertBooks(run, generateBooks(options.seed, from, to));
    totals.done += to - from;
    totals.inserted += result.books;
    totals.copies += result.copies;
    options.onProgress?.(totals.done, totals.inserted);
  };
  const [state] = await target.run('SELECT NOT EXISTS (SELECT 1 FROM "Book") AS empty', []);
  if (state?.empty === true && options.books >= BULK_THRESHOLD) {
    await target.transaction(async (run) => {
      const indexes = await run(
        `SELECT i.indexname AS name, i.indexdef AS definition FROM pg_indexes i
         JOIN pg_class c ON c.relname = i.indexname JOIN pg_index x ON x.indexrelid = c.oid
         WHERE i.schemaname = current_schema() AND i.tablename = 'Book' AND NOT x.indisunique AND NOT x.indisprimary`,
        [],
      );
      for (const index of indexes) await run(`DROP INDEX "${String(index.name).replace(/"/g, '""')}"`, []);
      for (let from = 0; from < options.books; from += options.batch) await load(run, from, Math.min(options.books, from + options.batch));
      options.onIndexes?.(indexes.length);
      await run(`SET LOCAL maintenance_work_mem = '256MB'`, []);
      for (const index of indexes) await run(String(index.definition), []);
    });
  } else {
    let next = 0;
    const worker = async () => {
      while (next < options.books) {
        const from = next;
        const to = Math.min(options.books, from + options.batch);
        next = to;
        await load(target.run, from, to);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, target.parallel) }, worker));
  }
  return { generated: options.books, inserted: totals.inserted, copies: totals.copies, seconds: (performance.now() - started) / 1000 };
}

/** A one-line progress bar: `[#####.....]  52%  520,000/1,000,000 books  11,800 rows/s  ETA 41s`. */
export function progressLine(done: number, total: number, seconds: number): string {
  const width = 30;
  const filled = total === 0 ? width : Math.round((done / total) * width);
  const rate = seconds > 0 ? done / seconds : 0;
  const eta = rate > 0 ? Math.ceil((total - done) / rate) : 0;
  const pct = total === 0 ? 100 : Math.floor((done / total) * 100);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(pct).padStart(3)}%  ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} books  ${Math.round(rate).toLocaleString('en-US')} rows/s  ETA ${eta}s`;
}

const USAGE = 'Usage: npm run seed -- --books <count> [--seed <n>] [--batch <rows>] [--database <name>]';

function parseArgs(argv: string[]): { books: number; seed: number; batch: number; database?: string } {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i]!;
    const value = argv[i + 1];
    if (!['--books', '--seed', '--batch', '--database'].includes(flag) || value === undefined) throw new Error(USAGE);
    values.set(flag, value);
  }
  const int = (flag: string, fallback: number, max: number) => {
    const raw = values.get(flag);
    if (raw === undefined) return fallback;
    const n = Number(raw.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`${flag} must be a whole number from 0 to ${max}.\n${USAGE}`);
    return n;
  };
  const database = values.get('--database');
  if (database !== undefined && !/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`--database: "${database}" is not a valid name.`);
  return {
    books: int('--books', 1000, 100_000_000),
    seed: int('--seed', 42, 2 ** 31 - 1),
    batch: Math.max(1, int('--batch', 5000, 20_000)),
    database,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const target = await openBooksTarget({ databaseName: args.database });
  try {
    process.stderr.write(`Seeding ${args.books.toLocaleString('en-US')} books (seed ${args.seed}) into the ${target.describe}…\n`);
    const started = performance.now();
    let lastDraw = 0;
    const draw = (done: number) => {
      const now = performance.now();
      if (done < args.books && now - lastDraw < 250) return;
      lastDraw = now;
      const line = progressLine(done, args.books, (now - started) / 1000);
      process.stderr.write(process.stderr.isTTY ? `\r${line}` : `${line}\n`);
    };
    const result = await seedCatalog(target, {
      ...args,
      onProgress: draw,
      onIndexes: (count) => process.stderr.write(`${process.stderr.isTTY ? '\n' : ''}Building ${count} search and sort indexes…\n`),
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    const skipped = result.generated - result.inserted;
    console.log(
      `Seeded ${result.inserted.toLocaleString('en-US')} books and ${result.copies.toLocaleString('en-US')} copies in ${result.seconds.toFixed(1)} s` +
        ` (${Math.round(result.generated / Math.max(result.seconds, 0.001)).toLocaleString('en-US')} rows/s)` +
        (skipped > 0 ? `; ${skipped.toLocaleString('en-US')} were already there.` : '.'),
    );
    // Fresh statistics, so the planner knows how common each search word is (docs/api.md, "Search").
    await target.run('ANALYZE "Book"', []);
    await target.run('ANALYZE "SearchWord"', []);
  } finally {
    await target.close();
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}

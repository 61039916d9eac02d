import { generateBooks } from '@shelfwise/books/catalog';
import { dropTestDatabase, freshDatabaseName, hasPostgres, TEST_DATABASE_URL } from '@shelfwise/testkit';
import { openBooksTarget, type BooksTarget, type TargetOptions } from '../scripts/catalog/target.js';
import { importCatalog, parseCsv, splitList } from '../scripts/import.js';
import { progressLine, seedCatalog } from '../scripts/seed.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;

describe('the catalogue generator', () => {
  it('gives the same books for the same seed, other books for another seed', () => {
    const a = generateBooks(42, 0, 200);
    expect(generateBooks(42, 0, 200)).toEqual(a);
    // A book depends only on (seed, index): a later batch regenerates the same rows.
    expect(generateBooks(42, 150, 200)).toEqual(a.slice(150));
    const b = generateBooks(43, 0, 200);
    expect(b.map((x) => x.title)).not.toEqual(a.map((x) => x.title));
  });

  it('makes valid, unique ISBN-13s and plausible fields', () => {
    const books = generateBooks(1, 0, 2000);
    expect(new Set(books.map((b) => b.isbn)).size).toBe(books.length);
    expect(new Set(books.map((b) => b.id)).size).toBe(books.length);
    for (const b of books) {
      expect(b.isbn).toMatch(/^978\d{10}$/);
      const sum = [...b.isbn].reduce((acc, d, i) => acc + Number(d) * (i % 2 === 0 ? 1 : 3), 0);
      expect(sum % 10).toBe(0);
      expect(b.title.length).toBeGreaterThan(2);
      expect(b.authors.length).toBeGreaterThanOrEqual(1);
      expect(b.genres.length).toBeGreaterThanOrEqual(1);
      expect(b.publishedYear).toBeGreaterThanOrEqual(1850);
      expect(b.publishedYear).toBeLessThanOrEqual(2025);
      expect(b.language).toMatch(/^[a-z]{2}$/);
      expect(b.copies).toBeGreaterThanOrEqual(0);
      expect(b.popularity).toBeGreaterThanOrEqual(0);
    }
  });

  it('draws a progress bar with rows per second', () => {
    expect(progressLine(500, 1000, 2)).toBe(`[${'#'.repeat(15)}${'.'.repeat(15)}]  50%  500/1,000 books  250 rows/s  ETA 2s`);
  });
});

describe('parseCsv', () => {
  it('reads quoted fields with commas, quotes and line breaks, and numbers records by their first line', () => {
    const text = 'a,b,c\r\n"1, one","say ""hi""","multi\nline"\n\n2,,"x"\n';
    expect(parseCsv(text)).toEqual([
      { line: 1, fields: ['a', 'b', 'c'] },
      { line: 2, fields: ['1, one', 'say "hi"', 'multi\nline'] },
      { line: 5, fields: ['2', '', 'x'] },
    ]);
  });

  it('refuses a quote that is never closed, naming its line', () => {
    expect(() => parseCsv('a,b\n1,"open\n2,3\n')).toThrow('line 2: a quoted field is never closed');
  });

  it('splits authors and genres on ; or |', () => {
    expect(splitList(' Neil Gaiman ; Terry Pratchett|  ')).toEqual(['Neil Gaiman', 'Terry Pratchett']);
  });
});

const HEADER = 'isbn,title,authors,genres,year,language,copies,description';
const CSV = [
  HEADER,
  '978-0-306-40615-7,"Good Omens","Neil Gaiman; Terry Pratchett",Fantasy|Humor,1990,en,2,"The world ends on Saturday. Next Saturday, in fact."',
  '0-306-40615-2,"The same book as line 2, as an ISBN-10",Someone,,,,1,',
  '9780306406158,Bad Check Digit,Someone,,2000,en,1,',
  '9781861972712,,No Title,,2000,en,1,',
  '9781861972712,No Authors,,,2000,en,1,',
  '9780143127550,"Year Not A Number",Author,,nineteen,en,1,',
  '9780143127550,Too many copies,Author,,2001,en,101,',
  '9780141439518,"Pride and Prejudice","Jane Austen","Classics;Romance",1813,en,3,"""It is a truth universally acknowledged…"""',
  '9780441172719,Dune,Frank Herbert,Science Fiction,1965,xx-long,1,',
  '9780441172719,Dune,Frank Herbert,Science Fiction,1965,en',
  '9780441172719,Dune,Frank Herbert,Science Fiction,1965,EN,0,',
  '9780441172719,Dune again,Frank Herbert,Science Fiction,1965,en,1,',
].join('\n');

function describeImport(title: string, describeFn: jest.Describe, options: () => TargetOptions, cleanup?: () => Promise<void>) {
  describeFn(title, () => {
    let target: BooksTarget;
    beforeAll(async () => {
      target = await openBooksTarget(options());
    });
    afterAll(async () => {
      await target?.close();
      await cleanup?.();
    });

    it('imports the good rows and reports every bad one with its line and reason', async () => {
      const report = await importCatalog(target, CSV, { now: new Date('2026-01-01T00:00:00Z') });
      expect(report.rows).toBe(12);
      expect(report.imported).toBe(3);
      expect(report.copies).toBe(5);
      expect(report.alreadyCatalogued).toBe(0);
      expect(report.problems.map((p) => p.line)).toEqual([3, 4, 5, 6, 7, 8, 10, 11, 13]);
      const reasons = new Map(report.problems.map((p) => [p.line, p.reason]));
      expect(reasons.get(3)).toBe('ISBN 9780306406157 already appears on line 2 of this file.');
      expect(reasons.get(4)).toMatch(/check digit/);
      expect(reasons.get(5)).toMatch(/title is required/);
      expect(reasons.get(6)).toMatch(/At least one author/);
      expect(reasons.get(7)).toMatch(/year "nineteen"/);
      expect(reasons.get(8)).toMatch(/copies/);
      expect(reasons.get(10)).toMatch(/language code/);
      expect(reasons.get(11)).toMatch(/expected 8 fields/);
      expect(reasons.get(13)).toMatch(/already appears on line 12/);

      const rows = await target.run(
        'SELECT isbn, title, authors, genres, "publishedYear", language, description, (SELECT count(*)::int FROM "Copy" c WHERE c."bookId" = b.id) AS copies FROM "Book" b ORDER BY isbn',
        [],
      );
      expect(rows).toEqual([
        {
          isbn: '9780141439518',
          title: 'Pride and Prejudice',
          authors: ['Jane Austen'],
          genres: ['Classics', 'Romance'],
          publishedYear: 1813,
          language: 'en',
          description: '"It is a truth universally acknowledged…"',
          copies: 3,
        },
        {
          isbn: '9780306406157',
          title: 'Good Omens',
          authors: ['Neil Gaiman', 'Terry Pratchett'],
          genres: ['Fantasy', 'Humor'],
          publishedYear: 1990,
          language: 'en',
          description: 'The world ends on Saturday. Next Saturday, in fact.',
          copies: 2,
        },
        {
          isbn: '9780441172719',
          title: 'Dune',
          authors: ['Frank Herbert'],
          genres: ['Science Fiction'],
          publishedYear: 1965,
          language: 'en',
          description: null,
          copies: 0,
        },
      ]);
      // The search columns are filled by the database for imported rows too.
      const [found] = await target.run(`SELECT count(*)::int AS n FROM "Book" WHERE "searchVector" @@ 'pratchett'::tsquery`, []);
      expect(found?.n).toBe(1);
    });

    it('adds nothing when the same file is imported again', async () => {
      const before = await target.run(
        'SELECT (SELECT count(*) FROM "Book")::int AS books, (SELECT count(*) FROM "Copy")::int AS copies',
        [],
      );
      const report = await importCatalog(target, CSV, { now: new Date('2026-01-01T00:00:00Z') });
      expect(report.imported).toBe(0);
      expect(report.copies).toBe(0);
      expect(report.alreadyCatalogued).toBe(3);
      const after = await target.run(
        'SELECT (SELECT count(*) FROM "Book")::int AS books, (SELECT count(*) FROM "Copy")::int AS copies',
        [],
      );
      expect(after).toEqual(before);
    });

    it('refuses a header without the required columns or with an unknown one, importing nothing', async () => {
      await expect(importCatalog(target, 'isbn,title\n9780306406157,X\n')).rejects.toThrow('missing: authors');
      await expect(importCatalog(target, 'isbn,title,authors,publisher\n')).rejects.toThrow('unknown column "publisher"');
    });

    it('seeds deterministically: the same seed twice adds nothing, a larger count adds the rest', async () => {
      const first = await seedCatalog(target, { books: 300, seed: 5, batch: 128 });
      expect(first.inserted).toBe(300);
      const again = await seedCatalog(target, { books: 300, seed: 5, batch: 77 });
      expect(again.inserted).toBe(0);
      const more = await seedCatalog(target, { books: 350, seed: 5, batch: 100 });
      expect(more.inserted).toBe(50);
      const expected = generateBooks(5, 0, 350);
      const rows = await target.run(
        `SELECT id, isbn, title, authors, genres, "publishedYear", language, description, popularity,
                (SELECT count(*)::int FROM "Copy" c WHERE c."bookId" = b.id) AS copies
         FROM "Book" b WHERE id = ANY($1::uuid[]) ORDER BY isbn`,
        [expected.map((b) => b.id)],
      );
      const wanted = expected
        .map(({ index: _index, ...b }) => b)
        .sort((x, y) => (x.isbn < y.isbn ? -1 : 1))
        .map((b) => ({ ...b, copies: b.copies }));
      expect(rows.map((r) => ({ ...r }))).toEqual(wanted.map((b) => expect.objectContaining(b)));
    });
  });
}

describeImport('import and seed (PGlite)', describe, () => ({ dataDir: 'memory://' }));

const databaseName = freshDatabaseName('catalog_scripts');
describeImport(
  'import and seed (real Postgres)',
  describePg,
  () => ({ databaseUrl: TEST_DATABASE_URL, databaseName }),
  () => dropTestDatabase(databaseName),
);

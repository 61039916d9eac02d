/**
 * `npm run import -- books.csv [--database shelfwise_books]`
 *
 * Imports a CSV catalogue into the books database (DATABASE_URL's server, or the embedded database in
 * SHELFWISE_DATA_DIR/books without it). docs/operations.md ("Importing a catalogue") describes the format:
 * a header row naming the columns isbn, title, authors, genres, year, language, copies, description (any
 * order; isbn, title and authors required), RFC 4180 quoting, several authors or genres separated by `;`
 * or `|`. Every row is checked as addBook checks it; each bad row is reported with its line number and the
 * reason, and the good rows are imported anyway. Books are keyed by ISBN-13: a book already catalogued is
 * left as it is, so importing the same file twice adds nothing. Exit status 1 when any row was refused.
 */
import { readFile } from 'node:fs/promises';
import { insertBooks, validateNewBook, type BookRow } from '@shelfwise/books/catalog';
import { openBooksTarget, type BooksTarget } from './catalog/target.js';

/** One CSV record and the line of the file it starts on (1-based; quoted fields may span lines). */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/**
 * Parses RFC 4180 CSV: comma-separated, fields optionally in double quotes, `""` for a quote inside
 * quotes, CRLF or LF line ends, line breaks allowed inside quoted fields. A BOM is ignored. Blank lines are
 * skipped. Throws on a quote left open at the end of the file (naming the line it opened on).
 */
export function parseCsv(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let quoted = false;
    let openedAt = 0;
    let endOfRecord = false;
    while (i < text.length && !endOfRecord) {
      const c = text[i]!;
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          quoted = false;
          i += 1;
          continue;
        }
        if (c === '\n') line += 1;
        field += c;
        i += 1;
        continue;
      }
      if (c === '"' && field.trim() === '') {
        quoted = true;
        openedAt = line;
        field = '';
        i += 1;
      } else if (c === ',') {
        fields.push(field);
        field = '';
        i += 1;
      } else if (c === '\r' && text[i + 1] === '\n') {
        i += 2;
        line += 1;
        endOfRecord = true;
      } else if (c === '\n' || c === '\r') {
        i += 1;
        line += 1;
        endOfRecord = true;
      } else {
        field += c;
        i += 1;
      }
    }
    if (quoted) throw new Error(`line ${openedAt}: a quoted field is never closed (a " is missing).`);
    fields.push(field);
    if (fields.length === 1 && fields[0]!.trim() === '') continue;
    records.push({ line: start, fields });
  }
  return records;
}

export const COLUMNS = ['isbn', 'title', 'authors', 'genres', 'year', 'language', 'copies', 'description'] as const;
type Column = (typeof COLUMNS)[number];
const REQUIRED: Column[] = ['isbn', 'title', 'authors'];

/** Splits a list field: `;` or `|` between items, blanks dropped. */
export function splitList(value: string): string[] {
  return value
    .split(/[;|]/)
    .map((v) => v.trim())
    .filter(Boolean);
}

export interface RowProblem {
  line: number;
  reason: string;
}

export interface ImportReport {
  /** Data rows read (the header not counted). */
  rows: number;
  /** Books added now. */
  imported: number;
  copies: number;
  /** Good rows whose ISBN was already catalogued (left as they are). */
  alreadyCatalogued: number;
  problems: RowProblem[];
}

/** Reads the header: which column is where. Throws when a required column is missing or one is unknown. */
function readHeader(record: CsvRecord): Map<Column, number> {
  const positions = new Map<Column, number>();
  record.fields.forEach((raw, index) => {
    const name = raw.trim().toLowerCase();
    if (!(COLUMNS as readonly string[]).includes(name)) {
      throw new Error(`line ${record.line}: unknown column "${raw.trim()}" in the header. The columns are: ${COLUMNS.join(', ')}.`);
    }
    if (positions.has(name as Column)) throw new Error(`line ${record.line}: the column "${name}" appears twice in the header.`);
    positions.set(name as Column, index);
  });
  const missing = REQUIRED.filter((c) => !positions.has(c));
  if (missing.length > 0) {
    throw new Error(`line ${record.line}: the header must name the columns ${REQUIRED.join(', ')} (missing: ${missing.join(', ')}).`);
  }
  return positions;
}

/** Checks one data row as addBook would; the book, or why not. */
function readRow(record: CsvRecord, columns: Map<Column, number>, width: number, now: Date): BookRow | string {
  if (record.fields.length !== width) return `expected ${width} fields as in the header, found ${record.fields.length}.`;
  const get = (c: Column) => {
    const index = columns.get(c);
    return index === undefined ? '' : record.fields[index]!.trim();
  };
  // eslint-disable-next-line no-control-regex
  if (record.fields.some((f) => /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(f))) return 'contains control characters.';
  const yearText = get('year');
  if (yearText !== '' && !/^-?\d+$/.test(yearText)) return `year "${yearText}" is not a whole number.`;
  const copiesText = get('copies');
  if (copiesText !== '' && !/^-?\d+$/.test(copiesText)) return `copies "${copiesText}" is not a whole number.`;
  try {
    const book = validateNewBook(
      {
        isbn: get('isbn'),
        title: get('title'),
        authors: splitList(get('authors')),
        genres: splitList(get('genres')),
        publishedYear: yearText === '' ? null : Number(yearText),
        language: get('language') || null,
        description: get('description') || null,
        copies: copiesText === '' ? null : Number(copiesText),
      },
      now,
    );
    return book;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** Imports CSV text into `target`, `batch` books per statement. */
export async function importCatalog(
  target: BooksTarget,
  text: string,
  options: { now?: Date; batch?: number } = {},
): Promise<ImportReport> {
  const now = options.now ?? new Date();
  const records = parseCsv(text);
  const [header, ...data] = records;
  const report: ImportReport = { rows: data.length, imported: 0, copies: 0, alreadyCatalogued: 0, problems: [] };
  if (!header) return report;
  const columns = readHeader(header);
  const seen = new Map<string, number>();
  const good: BookRow[] = [];
  for (const record of data) {
    const row = readRow(record, columns, header.fields.length, now);
    if (typeof row === 'string') {
      report.problems.push({ line: record.line, reason: row });
      continue;
    }
    const first = seen.get(row.isbn);
    if (first !== undefined) {
      report.problems.push({ line: record.line, reason: `ISBN ${row.isbn} already appears on line ${first} of this file.` });
      continue;
    }
    seen.set(row.isbn, record.line);
    good.push(row);
  }
  const batch = options.batch ?? 2000;
  for (let from = 0; from < good.length; from += batch) {
    const result = await insertBooks(target.run, good.slice(from, from + batch));
    report.imported += result.books;
    report.copies += result.copies;
  }
  report.alreadyCatalogued = good.length - report.imported;
  return report;
}

const USAGE = 'Usage: npm run import -- <file.csv> [--database <name>]';

async function main(argv: string[]): Promise<number> {
  const [file, ...rest] = argv;
  if (!file || file.startsWith('--') || (rest.length !== 0 && (rest.length !== 2 || rest[0] !== '--database'))) throw new Error(USAGE);
  const database = rest[1];
  if (database !== undefined && !/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`--database: "${database}" is not a valid name.`);
  const text = await readFile(file, 'utf8');
  const target = await openBooksTarget({ databaseName: database });
  try {
    const started = performance.now();
    const report = await importCatalog(target, text);
    for (const problem of report.problems) console.error(`${file}:${problem.line}: ${problem.reason}`);
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${file}: ${report.rows} rows; imported ${report.imported} books (${report.copies} copies) into the ${target.describe} in ${seconds.toFixed(1)} s; ` +
        `${report.alreadyCatalogued} already catalogued; ${report.problems.length} refused.`,
    );
    return report.problems.length > 0 ? 1 : 0;
  } finally {
    await target.close();
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 2;
    },
  );
}

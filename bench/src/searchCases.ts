/**
 * The search benchmark's cases (docs/benchmarks.md, "Search at a million books"), picked from the seeded
 * catalogue's own word frequencies: shared by `npm run bench:search` (search.ts, under load) and searchExplain.ts
 * (one at a time, with query plans).
 */
import { generateBook } from '@shelfwise/books/catalog';

/** The seed the bench catalogue is generated from. */
export const SEED = 42;

export interface Case {
  name: string;
  query: string;
  filter?: { genre?: string; language?: string; publishedFrom?: number; publishedTo?: number };
  facets?: boolean;
}

type Run = (sql: string, params: unknown[]) => Promise<unknown[]>;

/**
 * The most frequent word of the catalogue, a word in about 14% of the books, the rarest word, a two-word
 * title phrase, a typo of one, a filtered query, and the most frequent word with facets. The words come from
 * the exact frequencies the database keeps ("SearchWord"."books"), so the same catalogue always gives the
 * same terms (ANALYZE's sample does not).
 */
export async function benchCases(run: Run): Promise<Case[]> {
  const words = (await run(
    `SELECT w."word" AS word, w."books" AS books FROM "SearchWord" w WHERE w."books" > 0 AND w."word" ~ '^[a-z]{2,}$'`,
    [],
  )) as { word: string; books: number }[];
  if (words.length === 0) throw new Error('The bench database holds no words: seed it (npm run bench:search seeds it once).');
  const [listed] = (await run(`SELECT "books" FROM "SearchMarker" WHERE "marker" = 'S:listed'`, [])) as { books: number }[];
  const books = Number(listed?.books ?? 0);
  const by = (key: (w: { word: string; books: number }) => number) =>
    [...words].sort((a, b) => key(a) - key(b) || (a.word < b.word ? -1 : a.word > b.word ? 1 : 0))[0]!.word;
  const mostFrequent = by((w) => -w.books);
  const fourteen = by((w) => Math.abs(w.books - 0.14 * books));
  const rare = by((w) => (w.word.length >= 4 ? w.books : Number.MAX_SAFE_INTEGER));
  const titleWords = (i: number) =>
    generateBook(SEED, i)
      .title.toLowerCase()
      .split(/[^a-z]+/)
      .filter((w) => w.length >= 4);
  const phrase = titleWords(0).slice(0, 2).join(' ') || `${fourteen} ${rare}`;
  const typoSource = titleWords(1).length >= 2 ? titleWords(1).slice(0, 2) : [fourteen, rare];
  const typo = `${typoSource[0]} ${typoSource[1]!.slice(0, -2)}${typoSource[1]!.slice(-1)}`;
  return [
    { name: 'most frequent word', query: mostFrequent },
    { name: 'word in ~14% of books', query: fourteen },
    { name: 'rarest word', query: rare },
    { name: 'two-word phrase', query: phrase },
    { name: 'typo', query: typo },
    { name: 'filtered (genre, language, years)', query: fourteen, filter: { genre: 'Mystery', language: 'fr', publishedFrom: 1990 } },
    { name: 'most frequent word + facets', query: mostFrequent, facets: true },
  ];
}

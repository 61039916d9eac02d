/**
 * The search benchmark's cases (docs/benchmarks.md, "Search at a million books"), picked from the seeded
 * catalogue's own statistics: shared by `npm run bench:search` (search.ts, under load) and searchExplain.ts
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
 * title phrase, a typo of one, a filtered query, and the most frequent word with facets.
 */
export async function benchCases(run: Run): Promise<Case[]> {
  const stats = (await run(
    `SELECT u.word, u.freq FROM pg_stats s,
            unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS u(word, freq)
     WHERE s.tablename = 'Book' AND s.attname = 'searchVector' AND length(u.word) >= 2 AND u.word ~ '^[a-z]+$'
     ORDER BY u.freq DESC, u.word`,
    [],
  )) as { word: string; freq: number }[];
  if (stats.length === 0) throw new Error('No statistics on "Book"."searchVector": run ANALYZE "Book" in the bench database.');
  const common = new Set(stats.map((s) => s.word));
  const [rareOutside] = (await run(
    `SELECT w."word" FROM "SearchWord" w WHERE w."word" ~ '^[a-z]{4,}$' AND NOT (w."word" = ANY($1::text[])) ORDER BY w."word" LIMIT 1`,
    [[...common]],
  )) as { word: string }[];
  const mostFrequent = stats[0]!.word;
  const fourteen = [...stats].sort((a, b) => Math.abs(a.freq - 0.14) - Math.abs(b.freq - 0.14))[0]!.word;
  const rare = rareOutside?.word ?? stats.at(-1)!.word;
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

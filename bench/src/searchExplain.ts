/**
 * `tsx bench/src/searchExplain.ts [--runs 20] [--explain]`: the search benchmark's cases (bench/src/search.ts)
 * run one at a time straight through `BookSearch` on `shelfwise_bench_books` (no HTTP, no concurrency), to
 * see what each search costs in the database itself: the median and worst time of `--runs` sequential
 * searches per case and, with `--explain`, `EXPLAIN (ANALYZE, BUFFERS)` of every statement of one search.
 * Needs the seeded bench database (run `npm run bench:search` once): BENCH_DATABASE_URL, else DATABASE_URL.
 */
import { getEnvOptional } from '@shelfwise/kit';
import { Prisma } from '../../subgraphs/books/src/generated/prisma/client.js';
import { BookSearch, type BookSearchInput } from '../../subgraphs/books/src/data/BookSearch.js';
import { openBooksDatabase, type PrismaClient } from '../../subgraphs/books/src/data/client.js';
import { benchCases } from './searchCases.js';

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1]) || 20;
const explain = argv.includes('--explain');
const serverUrl = getEnvOptional('BENCH_DATABASE_URL') ?? getEnvOptional('DATABASE_URL');
if (!serverUrl) throw new Error('Set BENCH_DATABASE_URL (or DATABASE_URL) to the server holding shelfwise_bench_books.');

const database = await openBooksDatabase({ databaseUrl: serverUrl, databaseName: 'shelfwise_bench_books' });
const prisma = database.prisma;
const statements: Prisma.Sql[] = [];
const statementMs: number[] = [];
// The same client, recording every raw statement the search sends.
const recording = new Proxy(prisma, {
  get(target, property, receiver) {
    if (property === '$queryRaw') {
      return (strings: TemplateStringsArray, ...values: unknown[]) => {
        statements.push(Prisma.sql(strings, ...values));
        const t = performance.now();
        return target.$queryRaw(strings, ...values).then((rows) => {
          statementMs.push(performance.now() - t);
          return rows;
        });
      };
    }
    return Reflect.get(target, property, receiver) as unknown;
  },
}) as PrismaClient;
const search = new BookSearch(recording);

try {
  const cases = await benchCases((sql, params) => prisma.$queryRawUnsafe(sql, ...params));
  for (const c of cases) {
    const input: BookSearchInput = { query: c.query, ...c.filter, sort: 'RELEVANCE', first: 20 };
    const times: number[] = [];
    for (let i = 0; i < runs + 2; i += 1) {
      statements.length = 0;
      statementMs.length = 0;
      const t = performance.now();
      const page = await search.search(input);
      if (c.facets) await page.facets();
      if (i >= 2) times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1);
    console.log(`\n=== ${c.name}: ${JSON.stringify(c.query)} ${c.filter ? JSON.stringify(c.filter) : ''}`);
    console.log(
      `sequential, ${runs} runs: p50 ${at(0.5)} ms, max ${at(1)} ms, ${statements.length} statements (last run: ${statementMs.map((ms) => ms.toFixed(1)).join(' + ')} ms)`,
    );
    if (!explain) continue;
    for (const s of [...statements]) {
      if (argv.includes('--sql')) console.log(s.text, s.values);
      const plan = await prisma.$queryRawUnsafe<{ 'QUERY PLAN': string }[]>(`EXPLAIN (ANALYZE, BUFFERS) ${s.text}`, ...s.values);
      console.log(`--- ${s.text.replace(/\s+/g, ' ').slice(0, 160)}…`);
      console.log(plan.map((r) => r['QUERY PLAN']).join('\n'));
    }
  }
} finally {
  await database.close();
}

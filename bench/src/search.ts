/**
 * `npm run bench:search [-- --books 1000000 --seconds 10 --connections 8 --warmup 3]`: catalogue search at
 * scale (docs/benchmarks.md, "Search"). Needs a real PostgreSQL: BENCH_DATABASE_URL, else DATABASE_URL.
 *
 * 1. The database `shelfwise_bench_books` on that server is seeded once with `--books` generated books
 *    (seed 42, the same generator as `npm run seed`) and reused by later runs; the seed time is kept in
 *    bench/results/search-seed.json.
 * 2. The search terms are picked from the data itself (PostgreSQL's statistics on the search column): the
 *    most frequent word of the catalogue, a word in about 14% of the books, the rarest word, a two-word
 *    phrase, a typo and a filtered query (plus the most frequent word with facets).
 * 3. Each is sent to the books subgraph (own process, called directly with a router credential) at
 *    `--connections` concurrency for `--seconds`, after a warm-up; p50/p99 and throughput are printed and
 *    written to bench/results/search-latest.json.
 */
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CALLER_HEADER, CallerTrust, getEnvOptional } from '@shelfwise/kit';
import autocannon from 'autocannon';
import { openBooksTarget } from '../../scripts/catalog/target.js';
import { seedCatalog } from '../../scripts/seed.js';
import { benchCases, type Case, SEED } from './searchCases.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, '..', 'results');
const DATABASE = 'shelfwise_bench_books';

function flags(argv: string[]): { books: number; seconds: number; connections: number; warmup: number } {
  const values: Record<string, number> = { books: 1_000_000, seconds: 10, connections: 8, warmup: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '') ?? '';
    const value = Number(argv[i + 1]?.replace(/_/g, ''));
    if (!(name in values) || !Number.isInteger(value) || value < 1) {
      throw new Error('Usage: npm run bench:search -- [--books N] [--seconds S] [--connections C] [--warmup S]');
    }
    values[name] = value;
  }
  if (values.seconds! > 50 || values.warmup! > 50)
    throw new Error('--seconds and --warmup are at most 50: a router credential lasts 60 s.');
  return values as { books: number; seconds: number; connections: number; warmup: number };
}

const options = flags(process.argv.slice(2));
const serverUrl = getEnvOptional('BENCH_DATABASE_URL') ?? getEnvOptional('DATABASE_URL');
if (!serverUrl) throw new Error('The search benchmark needs a real PostgreSQL: set BENCH_DATABASE_URL (or DATABASE_URL).');

// 1. The catalogue, seeded once.
const target = await openBooksTarget({ databaseUrl: serverUrl, databaseName: DATABASE });
interface SeedRecord {
  books: number;
  seconds: number;
  date: string;
}
let seedRecord: SeedRecord | null = await readFile(path.join(resultsDir, 'search-seed.json'), 'utf8')
  .then((text) => JSON.parse(text) as SeedRecord)
  .catch(() => null);
const t0 = performance.now();
const [{ n: present } = { n: 0 }] = (await target.run('SELECT count(*)::int AS n FROM "Book"', [])) as { n: number }[];
if (present < options.books) {
  console.log(`seeding ${options.books.toLocaleString('en-US')} books into ${DATABASE} (${present.toLocaleString('en-US')} there)…`);
  const result = await seedCatalog(target, {
    books: options.books,
    seed: SEED,
    batch: 5000,
    onProgress: (done) => {
      if (done % 100_000 === 0)
        console.log(`  ${done.toLocaleString('en-US')} books, ${Math.round(done / ((performance.now() - t0) / 1000))} rows/s`);
    },
  });
  await target.run('ANALYZE "Book"', []);
  await target.run('ANALYZE "SearchWord"', []);
  seedRecord = { books: options.books, seconds: Math.round(result.seconds), date: new Date().toISOString() };
  await mkdir(resultsDir, { recursive: true });
  await writeFile(path.join(resultsDir, 'search-seed.json'), `${JSON.stringify(seedRecord, null, 2)}\n`);
} else {
  console.log(`reusing ${DATABASE}: ${present.toLocaleString('en-US')} books`);
}

// 2. The terms, from the data's own statistics.
const cases = await benchCases((sql, params) => target.run(sql, params));
const count = async (query: string) => {
  const [row] = await target.run(`SELECT count(*)::int AS n FROM "Book" WHERE "searchVector" @@ plainto_tsquery('simple', $1)`, [query]);
  return Number(row?.n ?? 0);
};

const PAGE = 'totalCount edges { node { id title authors publishedYear } }';
const FACETS = 'facets { genres { value count } authors { value count } languages { value count } }';
const matches = new Map<string, number>();
for (const c of cases) if (!c.filter) matches.set(c.query, await count(c.query));
await target.close();

// 3. Load.
const trust = CallerTrust.generate();
const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'serveSearch.ts'), serverUrl, DATABASE], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, APOLLO_TELEMETRY_DISABLED: 'true', LOG_LEVEL: 'warn', SHELFWISE_ROUTER_PRIVATE_KEY: trust.exportPem().privateKey },
});
try {
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the bench server exited early (code ${code})`)));
  });
  const { url } = JSON.parse(line) as { url: string };
  const body = (c: Case) =>
    JSON.stringify({
      query: `query Bench($q: String, $f: BookFilter) { books(query: $q, filter: $f, first: 20) { ${PAGE} ${c.facets ? FACETS : ''} } }`,
      variables: { q: c.query, f: c.filter ?? null },
    });
  const headers = () => ({ 'content-type': 'application/json', [CALLER_HEADER]: trust.sign({ viewer: null, clientAddress: null }) });
  const rows = [];
  for (const c of cases) {
    const res = await fetch(url, { method: 'POST', headers: headers(), body: body(c) });
    const answer = (await res.json()) as {
      data?: { books: { totalCount: number; edges: { node: { title: string } }[] } };
      errors?: unknown;
    };
    if (answer.errors || !answer.data) throw new Error(`"${c.query}" failed: ${JSON.stringify(answer.errors)}`);
    const run = (duration: number) =>
      autocannon({ url, connections: options.connections, duration, method: 'POST', headers: headers(), body: body(c) });
    await run(options.warmup);
    const result = await run(options.seconds);
    const row = {
      term: c.name,
      query: c.query,
      filter: c.filter ?? null,
      matches: c.filter ? null : (matches.get(c.query) ?? null),
      totalCount: answer.data.books.totalCount,
      firstTitle: answer.data.books.edges[0]?.node.title ?? null,
      requestsPerSecond: Math.round(result.requests.average),
      p50Ms: result.latency.p50,
      p99Ms: result.latency.p99,
      errors: result.errors + result.timeouts + result.non2xx,
    };
    rows.push(row);
    console.log(
      `${c.name.padEnd(36)} ${JSON.stringify(c.query).padEnd(26)} p50 ${row.p50Ms} ms  p99 ${row.p99Ms} ms  ${row.requestsPerSecond} req/s`,
    );
  }
  console.table(
    Object.fromEntries(
      rows.map((r) => [
        r.term,
        {
          query: r.query,
          matches: r.matches ?? 'filtered',
          'p50 ms': r.p50Ms,
          'p99 ms': r.p99Ms,
          'req/s': r.requestsPerSecond,
          errors: r.errors,
        },
      ]),
    ),
  );
  const report = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    loadAverageAtEnd: os.loadavg(),
    books: present >= options.books ? present : options.books,
    seed: seedRecord,
    connections: options.connections,
    seconds: options.seconds,
    rows,
  };
  await mkdir(resultsDir, { recursive: true });
  await writeFile(path.join(resultsDir, 'search-latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (rows.some((r) => r.errors > 0)) {
    console.error('Some requests failed; the figures above are not valid.');
    process.exitCode = 1;
  }
} finally {
  child.kill('SIGTERM');
}

/**
 * `tsx bench/src/searchExplain.ts [--runs 50] [--explain] [--sql]`: the search benchmark's cases
 * (bench/src/search.ts) run one at a time straight through `BookSearch` (on the driver adapter, as the
 * subgraph runs it) on `shelfwise_bench_books` (no HTTP, no concurrency), to see what each search costs:
 *
 * - end to end in this process: the median and worst of `--runs` sequential searches, and this process's CPU per search;
 * - in the database: the median and worst execution time of the search's statement (EXPLAIN ANALYZE,
 *   TIMING OFF, of the very statement BookSearch sent, `--runs` times), and the CPU time the database
 *   backend used per search over those runs (Linux /proc; unlike the execution time it does not grow when
 *   other work on the machine takes the CPU away): the figures docs/benchmarks.md reports as "database time";
 * - with `--explain`: the plan of every statement shelfwise_search() runs inside (auto_explain with nested
 *   statements, ANALYZE and BUFFERS, sent to this client), with `--sql` the statement and its parameters.
 *
 * Needs the seeded bench database (run `npm run bench:search` once): BENCH_DATABASE_URL, else DATABASE_URL.
 */
import { readFileSync } from 'node:fs';
import type { SqlDriverAdapterFactory, SqlQuery } from '@prisma/driver-adapter-utils';
import { databaseUrlFor, getEnvOptional } from '@shelfwise/kit';
import pg from 'pg';
import { Prisma } from '../../subgraphs/books/src/generated/prisma/client.js';
import { BookSearch, type BookSearchInput } from '../../subgraphs/books/src/data/BookSearch.js';
import { openBooksDatabase, type PrismaClient } from '../../subgraphs/books/src/data/client.js';
import { benchCases } from './searchCases.js';

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1]) || 50;
const explain = argv.includes('--explain');
const serverUrl = getEnvOptional('BENCH_DATABASE_URL') ?? getEnvOptional('DATABASE_URL');
if (!serverUrl) throw new Error('Set BENCH_DATABASE_URL (or DATABASE_URL) to the server holding shelfwise_bench_books.');

const DATABASE = 'shelfwise_bench_books';
const database = await openBooksDatabase({ databaseUrl: serverUrl, databaseName: DATABASE });
const prisma = database.prisma;
const statements: { text: string; values: unknown[] }[] = [];
// The same client and driver adapter, recording every statement the search sends (through Prisma or
// straight to the adapter, as the subgraph does).
const recording = new Proxy(prisma, {
  get(target, property, receiver) {
    if (property === '$queryRaw') {
      return (strings: TemplateStringsArray, ...values: unknown[]) => {
        const sql = Prisma.sql(strings, ...values);
        statements.push({ text: sql.text, values: sql.values });
        return target.$queryRaw(strings, ...values);
      };
    }
    return Reflect.get(target, property, receiver) as unknown;
  },
}) as PrismaClient;
const factory = database.db.adapter;
const recordingAdapter: SqlDriverAdapterFactory = {
  provider: factory.provider,
  adapterName: factory.adapterName,
  connect: async () => {
    const adapter = await factory.connect();
    return new Proxy(adapter, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (property === 'queryRaw') {
          return (query: SqlQuery) => {
            statements.push({ text: query.sql, values: query.args });
            return target.queryRaw(query);
          };
        }
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  },
};
const search = new BookSearch(recording, recordingAdapter);
// A plain connection for plans: auto_explain's LOG lines come back as notices when client_min_messages allows.
const client = new pg.Client({ connectionString: databaseUrlFor(serverUrl, DATABASE) });
await client.connect();
const notices: string[] = [];
client.on('notice', (n) => notices.push(n.message ?? ''));

const [{ pid: backend }] = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows as [{ pid: number }];
/** The backend's CPU seconds so far (user + system), or null without /proc. */
function backendCpu(): number | null {
  try {
    const fields = readFileSync(`/proc/${backend}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

const at = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const ms = (n: number) => n.toFixed(2);

try {
  const cases = await benchCases((sql, params) => prisma.$queryRawUnsafe(sql, ...params));
  for (const c of cases) {
    const input: BookSearchInput = { query: c.query, ...c.filter, sort: 'RELEVANCE', first: 20, withFacets: c.facets === true };
    const times: number[] = [];
    let nodeCpu = process.cpuUsage();
    for (let i = 0; i < runs + 2; i += 1) {
      if (i === 2) nodeCpu = process.cpuUsage();
      statements.length = 0;
      const t = performance.now();
      const page = await search.search(input);
      if (c.facets) await page.facets();
      if (i >= 2) times.push(performance.now() - t);
    }
    const used = process.cpuUsage(nodeCpu);
    const nodeCpuPerSearch = (used.user + used.system) / 1000 / runs;
    times.sort((a, b) => a - b);
    // The database's own time for the statement(s) of one search.
    const sent = [...statements];
    const dbTimes: number[] = [];
    let cpuStart: number | null = null;
    for (let i = 0; i < runs + 2; i += 1) {
      if (i === 2) cpuStart = backendCpu();
      let total = 0;
      for (const s of sent) {
        const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, TIMING OFF, SUMMARY ON) ${s.text}`, s.values);
        const line = rows.map((r) => r['QUERY PLAN']).find((l) => l.startsWith('Execution Time'));
        total += Number(/([\d.]+) ms/.exec(line ?? '')?.[1] ?? NaN);
      }
      if (i >= 2) dbTimes.push(total);
    }
    const cpuEnd = backendCpu();
    const cpuPerSearch = cpuStart === null || cpuEnd === null ? null : ((cpuEnd - cpuStart) * 1000) / runs;
    dbTimes.sort((a, b) => a - b);
    console.log(`\n=== ${c.name}: ${JSON.stringify(c.query)} ${c.filter ? JSON.stringify(c.filter) : ''}${c.facets ? ' + facets' : ''}`);
    console.log(
      `${runs} sequential searches: end to end p50 ${ms(at(times, 0.5))} ms, max ${ms(at(times, 1))} ms, Node CPU ${ms(nodeCpuPerSearch)} ms/search; ` +
        `database p50 ${ms(at(dbTimes, 0.5))} ms, max ${ms(at(dbTimes, 1))} ms, CPU ${cpuPerSearch === null ? '?' : ms(cpuPerSearch)} ms/search; ` +
        `${sent.length} statement(s)`,
    );
    if (!explain) continue;
    await client.query(`LOAD 'auto_explain'`);
    await client.query(
      `SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on;
       SET auto_explain.log_nested_statements = on; SET client_min_messages = log`,
    );
    for (const s of sent) {
      if (argv.includes('--sql')) console.log(s.text, s.values);
      notices.length = 0;
      await client.query(s.text, s.values);
      for (const n of notices) console.log(`--- ${n.replace(/\n\s*\n/g, '\n')}`);
    }
    await client.query(`SET auto_explain.log_min_duration = -1; SET client_min_messages = notice`);
  }
} finally {
  await client.end();
  await database.close();
}

/**
 * `npm run bench:search [-- --books 1000000 --seconds 10 --connections 8 --warmup 3 --pool 0]`: catalogue search at
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
 *    written to bench/results/search-latest.json, with the 1-minute load average sampled every second of
 *    the run and, on Linux (/proc), the CPU time per request of the subgraph, of the database's backends
 *    and of the load generator itself, and how many CPUs other work on the machine kept busy meanwhile.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CALLER_HEADER, CallerTrust, getEnvOptional } from '@shelfwise/kit';
import autocannon from 'autocannon';
import pg from 'pg';
import { openBooksTarget } from '../../scripts/catalog/target.js';
import { seedCatalog } from '../../scripts/seed.js';
import { benchCases, type Case, SEED } from './searchCases.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, '..', 'results');
const DATABASE = 'shelfwise_bench_books';

function flags(argv: string[]): { books: number; seconds: number; connections: number; warmup: number; pool: number } {
  // pool 0: the service's default connection pool.
  const values: Record<string, number> = { books: 1_000_000, seconds: 10, connections: 8, warmup: 3, pool: 0 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '') ?? '';
    const value = Number(argv[i + 1]?.replace(/_/g, ''));
    if (!(name in values) || !Number.isInteger(value) || value < (name === 'pool' ? 0 : 1)) {
      throw new Error('Usage: npm run bench:search -- [--books N] [--seconds S] [--connections C] [--warmup S] [--pool N]');
    }
    values[name] = value;
  }
  if (values.seconds! > 50 || values.warmup! > 50)
    throw new Error('--seconds and --warmup are at most 50: a router credential lasts 60 s.');
  return values as { books: number; seconds: number; connections: number; warmup: number; pool: number };
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
/** CPU seconds (user + system) a process has used so far, from /proc (null where there is no /proc). */
function cpuSeconds(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in USER_HZ (100 on Linux)
  } catch {
    return null;
  }
}
/** The machine's busy and total CPU time so far (all CPUs, seconds), from /proc/stat; null without it. */
function machineCpu(): { busy: number; total: number } | null {
  try {
    const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number) as number[];
    const busy = user! + nice! + system! + irq! + softirq! + steal!;
    return { busy: busy / 100, total: (busy + idle! + iowait!) / 100 };
  } catch {
    return null;
  }
}
// The database's backends for the bench database: their CPU is the search's database cost.
const monitor = new pg.Client({ connectionString: serverUrl });
await monitor.connect();
const backends = async () =>
  (
    await monitor.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [DATABASE])
  ).rows.map((r) => r.pid);
const trust = CallerTrust.generate();
const child = spawn(
  process.execPath,
  ['--import', 'tsx', path.join(here, 'serveSearch.ts'), serverUrl, DATABASE, ...(options.pool > 0 ? [String(options.pool)] : [])],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: {
      ...process.env,
      APOLLO_TELEMETRY_DISABLED: 'true',
      LOG_LEVEL: 'warn',
      SHELFWISE_ROUTER_PRIVATE_KEY: trust.exportPem().privateKey,
    },
  },
);
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
    // The database's CPU: every backend of the bench database seen during the run, from its first sighting
    // (the pool may close an idle connection and open another).
    const seen = new Map<number, { first: number; last: number }>();
    const sightBackends = async () => {
      for (const pid of await backends()) {
        const cpu = cpuSeconds(pid);
        if (cpu === null) continue;
        const known = seen.get(pid);
        if (known) known.last = cpu;
        else seen.set(pid, { first: cpu, last: cpu });
      }
    };
    await sightBackends();
    const before = { server: cpuSeconds(child.pid!), generator: process.cpuUsage(), machine: machineCpu(), at: performance.now() };
    const loads: number[] = [os.loadavg()[0]!];
    const sampler = setInterval(() => {
      loads.push(os.loadavg()[0]!);
      void sightBackends();
    }, 1000);
    const result = await Promise.resolve(run(options.seconds)).finally(() => clearInterval(sampler));
    loads.push(os.loadavg()[0]!);
    await sightBackends();
    const databaseCpu = seen.size === 0 ? null : [...seen.values()].reduce((a, b) => a + b.last - b.first, 0);
    const requests = Math.max(1, result.requests.total);
    const perRequest = (start: number | null, end: number | null) =>
      start === null || end === null ? null : Math.round(((end - start) * 1000 * 100) / requests) / 100;
    const generator = process.cpuUsage(before.generator);
    // Other work on the machine during the run, in CPUs: all busy CPU time less this benchmark's own
    // (subgraph, database backends, load generator), over the run's wall time.
    const machine = machineCpu();
    const serverCpu = before.server === null ? null : (cpuSeconds(child.pid!) ?? before.server) - before.server;
    const wall = (performance.now() - before.at) / 1000;
    const otherCpus =
      machine && before.machine && serverCpu !== null && databaseCpu !== null
        ? Math.max(0, machine.busy - before.machine.busy - serverCpu - databaseCpu - (generator.user + generator.system) / 1e6) / wall
        : null;
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
      loadAverage: { min: Math.min(...loads), max: Math.max(...loads) },
      otherCpus: otherCpus === null ? null : Math.round(otherCpus * 100) / 100,
      cpuMsPerRequest: {
        server: perRequest(before.server, cpuSeconds(child.pid!)),
        database: databaseCpu === null ? null : perRequest(0, databaseCpu),
        loadGenerator: Math.round((generator.user + generator.system) / 10 / requests) / 100,
      },
    };
    rows.push(row);
    console.log(
      `${c.name.padEnd(36)} ${JSON.stringify(c.query).padEnd(26)} p50 ${row.p50Ms} ms  p99 ${row.p99Ms} ms  ${row.requestsPerSecond} req/s` +
        `  load ${row.loadAverage.min.toFixed(1)}–${row.loadAverage.max.toFixed(1)}, other work ${row.otherCpus ?? '?'} CPUs` +
        `  CPU ms/request: server ${row.cpuMsPerRequest.server ?? '?'}, database ${row.cpuMsPerRequest.database ?? '?'}, load generator ${row.cpuMsPerRequest.loadGenerator}`,
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
          load: `${r.loadAverage.min.toFixed(1)}–${r.loadAverage.max.toFixed(1)}`,
          'other CPUs': r.otherCpus ?? '?',
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
    cpusOnline: os.availableParallelism(),
    books: present >= options.books ? present : options.books,
    seed: seedRecord,
    connections: options.connections,
    pool: options.pool || 'service default',
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
  await monitor.end();
}

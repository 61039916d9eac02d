/**
 * `npm run bench:circulation [-- --seconds 60 --concurrency 16 --warmup 5 --patrons 64 --books 200 --copies 5]`:
 * borrow + return cycles through the router on real PostgreSQL (docs/benchmarks.md, "Circulation: borrow +
 * return cycles"). Server: BENCH_DATABASE_URL, else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres.
 *
 * 1. The whole platform (startPlatform: seven subgraphs + router, in this process) on fresh databases
 *    `shelfwise_bench_circ_<subgraph>_<random>`, dropped at the end; rate limits off (every request comes
 *    from 127.0.0.1); the loans reconciler and due-date scanner, the hold scanner/reconciler and the
 *    payments relay timer off, so only the cycles' own work runs.
 * 2. `--patrons` patrons (created in users, signed in with a session and an access token, as the
 *    circulation tests do) and a catalogue of `--books` books × `--copies` copies.
 * 3. `--concurrency` workers, each owning its own patrons (so no patron ever holds more than one loan and
 *    the loan limit is never the refusal), loop over HTTP through the router: borrowBook(a random book) →
 *    returnLoan(that loan). `--warmup` seconds first, not counted; then `--seconds` measured.
 * 4. Prints cycles/s, p50/p99/max of each mutation, refusals and errors by code, then checks the
 *    circulation invariant in the services' own databases (router/test/circulationKit.ts) and prints it.
 *    Written to bench/results/circulation-latest.json with the load average before and after (the machine
 *    may be shared; record it with the figures). Exit code 1 on errors or a broken invariant.
 */
import { execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { dropDatabase, getEnvOptional, ServiceClock, SUBGRAPH_NAMES, type ServiceOptions, type SubgraphName } from '@shelfwise/kit';
import type { LoansOptions } from '@shelfwise/loans';
import type { PaymentsOptions } from '@shelfwise/payments';
import type { ReservationsOptions } from '@shelfwise/reservations';
import { startPlatform, type Platform } from '@shelfwise/router/platform';
import { Circulation, type Person } from '../../router/test/circulationKit.js';

// Per-request info logs would flood the terminal and cost the servers time; createLogger reads this at start.
process.env.LOG_LEVEL ??= 'warn';

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, '..', 'results');

interface Flags {
  seconds: number;
  concurrency: number;
  warmup: number;
  patrons: number;
  books: number;
  copies: number;
}

function flags(argv: string[]): Flags {
  const values: Record<string, number> = { seconds: 60, concurrency: 16, warmup: 5, patrons: 64, books: 200, copies: 5 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '') ?? '';
    const value = Number(argv[i + 1]?.replace(/_/g, ''));
    if (!(name in values) || !Number.isInteger(value) || value < (name === 'warmup' ? 0 : 1)) {
      throw new Error(
        'Usage: npm run bench:circulation -- [--seconds S] [--concurrency C] [--warmup S] [--patrons P] [--books B] [--copies N]',
      );
    }
    values[name] = value;
  }
  if (values.patrons! < values.concurrency!) throw new Error('--patrons must be at least --concurrency (each worker owns its patrons).');
  return values as unknown as Flags;
}

const options = flags(process.argv.slice(2).filter((arg) => arg !== '--'));
const serverUrl = getEnvOptional('BENCH_DATABASE_URL') ?? getEnvOptional('DATABASE_URL') ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const uptime = () => execSync('uptime').toString().trim();
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Refusals the workload can meet by chance: every copy of the picked book out at that moment. */
const EXPECTED_REFUSALS = new Set(['BOOK_UNAVAILABLE']);

const BORROW = 'mutation BenchBorrow($id: ID!) { borrowBook(bookId: $id) { id status dueAt copy { barcode } } }';
const RETURN = 'mutation BenchReturn($id: ID!) { returnLoan(loanId: $id) { id status returnedAt } }';

interface Answer {
  data?: Record<string, { id: string; status: string } | null> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Latencies of one mutation in the measured window, and what came back. */
class Stats {
  readonly samples: number[] = [];
  ok = 0;
  readonly refused = new Map<string, number>();
  readonly errors = new Map<string, number>();
  readonly errorSamples: string[] = [];

  fail(code: string, detail: string): void {
    const into = EXPECTED_REFUSALS.has(code) ? this.refused : this.errors;
    into.set(code, (into.get(code) ?? 0) + 1);
    if (into === this.errors && this.errorSamples.length < 5) this.errorSamples.push(`${code}: ${detail.slice(0, 300)}`);
  }

  summary() {
    const sorted = Float64Array.from(this.samples).sort();
    const at = (p: number) => (sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!) : NaN);
    return {
      calls: sorted.length,
      ok: this.ok,
      p50Ms: at(50),
      p90Ms: at(90),
      p99Ms: at(99),
      maxMs: round(sorted.at(-1) ?? NaN),
      refused: Object.fromEntries(this.refused),
      errors: Object.fromEntries(this.errors),
      errorSamples: this.errorSamples,
    };
  }
}

const databaseNames = Object.fromEntries(
  SUBGRAPH_NAMES.map((name) => [name, `shelfwise_bench_circ_${name}_${randomBytes(4).toString('hex')}`]),
) as Record<SubgraphName, string>;
const db = (name: SubgraphName): ServiceOptions => ({ databaseUrl: serverUrl, databaseName: databaseNames[name] });

let platform: Platform | undefined;
try {
  const loans: LoansOptions = { ...db('loans'), circulation: { reconcileIntervalMs: 0, scanIntervalMs: 0 } };
  const reservations: ReservationsOptions = { ...db('reservations'), holds: { scanIntervalMs: 0, reconcileIntervalMs: 0 } };
  const payments: PaymentsOptions = { ...db('payments'), relayIntervalMs: 0 };
  const setupStarted = performance.now();
  platform = await startPlatform({
    clock: new ServiceClock(),
    subgraphs: { ...Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, db(name)])), loans, reservations, payments },
    router: { rateLimit: { ipPerMinute: 0, userPerMinute: 0 } },
  });
  const kit = new Circulation(platform);
  const url = platform.router.url;

  // People and books. Tokens live 15 minutes; each patron's is reissued after 10.
  const patrons: Person[] = [];
  for (let i = 0; i < options.patrons; i += 16)
    patrons.push(...(await Promise.all(Array.from({ length: Math.min(16, options.patrons - i) }, () => kit.person('PATRON')))));
  const tokens = new Map<string, { headers: Record<string, string>; at: number }>();
  const headersOf = async (who: Person) => {
    const held = tokens.get(who.id);
    if (held && performance.now() - held.at < 600_000) return held.headers;
    const fresh = { headers: { 'content-type': 'application/json', ...(await kit.as(who)) }, at: performance.now() };
    tokens.set(who.id, fresh);
    return fresh.headers;
  };
  for (const who of patrons) await headersOf(who);
  const bookIds: string[] = [];
  for (let i = 0; i < options.books; i += 8)
    bookIds.push(
      ...(await Promise.all(Array.from({ length: Math.min(8, options.books - i) }, async () => (await kit.book(options.copies)).id))),
    );
  console.log(
    `platform on ${new URL(serverUrl).host} (${Object.values(databaseNames)[0]!.replace(/_users_/, '_<subgraph>_')}), ` +
      `${patrons.length} patrons, ${bookIds.length} books × ${options.copies} copies in ${round((performance.now() - setupStarted) / 1000)} s`,
  );

  async function call(stats: Stats | null, who: Person, query: string, id: string, field: string): Promise<string | null> {
    const started = performance.now();
    let answer: Answer;
    try {
      const res = await fetch(url, { method: 'POST', headers: await headersOf(who), body: JSON.stringify({ query, variables: { id } }) });
      answer = (await res.json()) as Answer;
    } catch (err) {
      stats?.samples.push(performance.now() - started);
      stats?.fail('NETWORK', err instanceof Error ? err.message : String(err));
      return null;
    }
    stats?.samples.push(performance.now() - started);
    const result = answer.data?.[field];
    if (answer.errors?.length || !result) {
      const first = answer.errors?.[0];
      stats?.fail(first?.extensions?.code ?? 'NO_DATA', first?.message ?? JSON.stringify(answer));
      return null;
    }
    if (stats) stats.ok += 1;
    return result.id;
  }

  const borrow = new Stats();
  const giveBack = new Stats();
  let cycles = 0;
  let phase: 'warmup' | 'measure' | 'stop' = options.warmup > 0 ? 'warmup' : 'measure';

  async function worker(index: number): Promise<void> {
    const own = patrons.filter((_, i) => i % options.concurrency === index);
    for (let turn = 0; phase !== 'stop'; turn++) {
      const who = own[turn % own.length]!;
      const measuring = phase === 'measure';
      const bookId = bookIds[Math.floor(Math.random() * bookIds.length)]!;
      const loanId = await call(measuring ? borrow : null, who, BORROW, bookId, 'borrowBook');
      if (!loanId) continue;
      // A cycle started in the warm-up finishes uncounted, so both figures cover the same calls.
      const returned = await call(measuring ? giveBack : null, who, RETURN, loanId, 'returnLoan');
      if (returned && measuring) cycles += 1;
    }
  }

  const loadBefore = uptime();
  const running = Array.from({ length: options.concurrency }, (_, i) => worker(i));
  if (options.warmup > 0) {
    await new Promise((resolve) => setTimeout(resolve, options.warmup * 1000));
    phase = 'measure';
  }
  const measureStarted = performance.now();
  const cpuBefore = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
  phase = 'stop';
  const windowSeconds = (performance.now() - measureStarted) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await Promise.all(running);
  const loadAfter = uptime();

  // Everything has settled (every worker finished its cycle): the invariant over the whole catalogue.
  const problems = await kit.invariantProblems(bookIds);
  const leftActive = await platform.subgraphs.loans.database.prisma.loan.count({ where: { status: 'ACTIVE' } });
  const loanRows = await platform.subgraphs.loans.database.prisma.loan.groupBy({ by: ['status'], _count: true });

  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    database: new URL(serverUrl).host,
    uptimeBefore: loadBefore,
    uptimeAfter: loadAfter,
    options,
    windowSeconds: round(windowSeconds, 2),
    cycles,
    cyclesPerSecond: round(cycles / windowSeconds),
    borrowBook: borrow.summary(),
    returnLoan: giveBack.summary(),
    /** CPU of this one process (load generator, router and all seven subgraphs; PostgreSQL is apart). */
    processCpuShareOfOneCore: round((cpu.user + cpu.system) / 1e6 / windowSeconds, 2),
    /** That CPU per measured cycle: steadier than the rates when other jobs share the cores. */
    processCpuMsPerCycle: round((cpu.user + cpu.system) / 1e3 / Math.max(cycles, 1)),
    loansByStatus: Object.fromEntries(loanRows.map((row) => [row.status, row._count])),
    activeLoansLeft: leftActive,
    invariant: { holds: problems.length === 0, problems: problems.slice(0, 20), problemCount: problems.length },
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `\n${result.cyclesPerSecond} cycles/s over ${result.windowSeconds} s at concurrency ${options.concurrency}; ` +
      `borrowBook p50 ${result.borrowBook.p50Ms} ms p99 ${result.borrowBook.p99Ms} ms; ` +
      `returnLoan p50 ${result.returnLoan.p50Ms} ms p99 ${result.returnLoan.p99Ms} ms; ` +
      `invariant ${problems.length === 0 ? 'holds' : `BROKEN (${problems.length} problems)`}`,
  );
  await mkdir(resultsDir, { recursive: true });
  await writeFile(path.join(resultsDir, 'circulation-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  const errorCount = [borrow, giveBack].reduce((sum, s) => sum + [...s.errors.values()].reduce((a, b) => a + b, 0), 0);
  if (errorCount > 0 || problems.length > 0) process.exitCode = 1;
} finally {
  await platform?.stop().catch((err: unknown) => console.error('stopping the platform failed:', err));
  await Promise.all(Object.values(databaseNames).map((name) => dropDatabase(serverUrl, name).catch(() => undefined)));
}

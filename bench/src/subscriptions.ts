/**
 * `npx tsx bench/src/subscriptions.ts [-- --subscribers 1000 --rate 10 --seconds 30 --warmup 3 --idle 12 --books 10 --clients 1
 * --database postgres]`: live push at scale (docs/benchmarks.md, "Subscriptions"). Needs Redis (REDIS_URL,
 * else redis://127.0.0.1:6379) and, with `--database postgres` (the default), PostgreSQL (BENCH_DATABASE_URL,
 * else DATABASE_URL, else postgres://postgres@127.0.0.1:5432/postgres). `BENCH_CPU_PROF=<dir>`: the router
 * process also writes a V8 CPU profile there.
 *
 * 1. Two child processes (subscriptionsServe.ts): the seven subgraphs (each on a fresh PostgreSQL database
 *    of its own, as deployed, or with `--database pglite` on the embedded PGlite), and the router alone on a
 *    Redis bus with a channel prefix of this run. The router's CPU time (`process.cpuUsage()` of its
 *    process) is then its own: neither the subscribers' (this process) nor the subgraphs' answering its
 *    per-event gateway query.
 * 2. `--subscribers` WebSockets (raw graphql-transport-ws, anonymous) on `--clients` worker threads of this
 *    process (subscriptionsClient.ts), each with its own random subscription id as graphql-ws clients
 *    choose them, subscribe to `bookAvailabilityChanged` for all `--books` books with a nested field
 *    fetched through the gateway (`book { title }`): one group, so one gateway query per event. Every
 *    frame is checked (its id, no errors, the book's title).
 * 3. `--idle` seconds (default: one 12 s keep-alive period) with every subscriber connected and no event:
 *    the router's idle CPU (keep-alive pings, timers), reported apart.
 * 4. Availability events are published on Redis at `--rate` per second, as books publishes them after a
 *    commit; each carries its sequence number in `availableCopies`. Latency is publish → receipt on the
 *    subscriber's socket (both timed in this process, on the clock its threads share, so the Redis hop is
 *    included), over every delivery after the warm-up. Every subscriber must receive every event: lost and duplicate
 *    deliveries are counted.
 * 5. Router CPU per delivery (user and system) over the measured window, deliveries per CPU-second (per
 *    core) from it, and the 1-minute load average (os.loadavg) before, during (sampled every second) and
 *    after, because the machine may be shared: latency under load measures the load; CPU per delivery
 *    much less so. Printed and written to bench/results/subscriptions-latest.json.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BOOK_AVAILABILITY_CHANNEL, CallerTrust, getEnvOptional, RedisBus, type BookAvailabilityEvent } from '@shelfwise/kit';
import { sharedNow, type ClientReport, type ClientSetup } from './subscriptionsClient.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, '..', 'results');

/** The targets of issue #9 for this bench. */
const TARGET = { p99Ms: 25, deliveriesPerCoreSecond: 100_000 } as const;

interface Options {
  /** Where the subgraphs keep their data: fresh PostgreSQL databases (as deployed) or in-memory PGlite. */
  database: 'postgres' | 'pglite';
  subscribers: number;
  rate: number;
  seconds: number;
  warmup: number;
  idle: number;
  books: number;
  clients: number;
}

function flags(argv: string[]): Options {
  const values: Record<string, number> = { subscribers: 1000, rate: 10, seconds: 30, warmup: 3, idle: 12, books: 10, clients: 1 };
  let database: Options['database'] = 'postgres';
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '') ?? '';
    if (name === 'database') {
      const value = argv[i + 1];
      if (value !== 'postgres' && value !== 'pglite') throw new Error('--database is postgres or pglite.');
      database = value;
      continue;
    }
    const value = Number(argv[i + 1]?.replace(/_/g, ''));
    if (!(name in values) || !Number.isInteger(value) || value < 1) {
      throw new Error(
        'Usage: tsx bench/src/subscriptions.ts [--subscribers N] [--rate R] [--seconds S] [--warmup S] [--idle S] [--books B] [--clients T] [--database postgres|pglite]',
      );
    }
    values[name] = value;
  }
  if (values.books! > 100) throw new Error('--books is at most 100 (one subscription watches at most 100 books).');
  return { ...(values as Omit<Options, 'database'>), database };
}

const options = flags(process.argv.slice(2).filter((arg) => arg !== '--'));
const redisUrl = getEnvOptional('REDIS_URL') ?? 'redis://127.0.0.1:6379';
const prefix = `bench-subscriptions-${process.pid}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const loadAverage = () => os.loadavg().map((n) => round(n));
const cpuMicros = (cpu: NodeJS.CpuUsage) => cpu.user + cpu.system;

const SUBSCRIPTION = `subscription BenchWatch($ids: [ID!]!) {
  bookAvailabilityChanged(bookIds: $ids) { bookId availableCopies totalCopies book { title } }
}`;

interface RouterCounters {
  connections: number;
  subscribers: number;
  groups: number;
  events: number;
  gatewayExecutions: number;
  framesSent: number;
  payloadsSerialized: number;
}

interface ServerStats {
  cpu: NodeJS.CpuUsage;
  stats?: RouterCounters;
}

// --- the server processes -----------------------------------------------------------------------------
/** A child running subscriptionsServe.ts, answering one JSON line per request. */
class Server {
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly exited: Promise<never>;

  constructor(name: string, args: string[], env: Record<string, string>, nodeArgs: string[] = []) {
    this.child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', path.join(here, 'subscriptionsServe.ts'), ...args], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: { ...process.env, ...env, APOLLO_TELEMETRY_DISABLED: 'true', LOG_LEVEL: 'warn' },
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const next = this.waiting.shift();
      if (next) next(line);
      else this.lines.push(line);
    });
    this.exited = new Promise<never>((_, reject) =>
      this.child.once('exit', (code) => reject(new Error(`the bench's ${name} process exited (code ${code})`))),
    );
    this.exited.catch(() => undefined);
  }

  async line<T>(): Promise<T> {
    const line = await Promise.race([
      this.exited,
      new Promise<string>((resolve) => (this.lines.length > 0 ? resolve(this.lines.shift()!) : this.waiting.push(resolve))),
    ]);
    return JSON.parse(line) as T;
  }

  stats(): Promise<ServerStats> {
    this.child.stdin!.write('stats\n');
    return this.line<ServerStats>();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.write('stop\n');
    await Promise.race([exited, sleep(15_000)]);
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
  }
}

// --- subscribers ----------------------------------------------------------------------------------------
const warmupEvents = options.warmup * options.rate;
const measuredEvents = options.seconds * options.rate;
const totalEvents = warmupEvents + measuredEvents;
/** When each event was published, on the clock the subscriber threads share. */
const publishedAt = new Float64Array(totalEvents);
const delivered = new Int32Array(new SharedArrayBuffer(4));
const deliveries = () => Atomics.load(delivered, 0);

/** One subscriber thread (subscriptionsClient.ts) and its report once asked. */
class Client {
  private readonly worker: Worker;
  readonly ready: Promise<void>;
  private readonly failed: Promise<never>;

  constructor(setup: ClientSetup) {
    // A worker does not inherit tsx's loader (privatenumber/tsx#354): it registers it, then loads the file.
    const entry = JSON.stringify(pathToFileURL(path.join(here, 'subscriptionsClient.ts')).href);
    this.worker = new Worker(`import('tsx/esm/api').then(({ register }) => { register(); return import(${entry}); });`, {
      eval: true,
      workerData: setup,
    });
    this.failed = new Promise<never>((_, reject) => {
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`a subscriber thread exited (code ${code})`)));
    });
    this.failed.catch(() => undefined);
    this.ready = Promise.race([this.failed, new Promise<void>((resolve) => this.worker.once('message', () => resolve()))]);
  }

  report(): Promise<ClientReport> {
    const report = new Promise<ClientReport>((resolve) =>
      this.worker.once('message', (message: { report: ClientReport }) => resolve(message.report)),
    );
    this.worker.postMessage({ type: 'finish' });
    return Promise.race([this.failed, report]);
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const loadBefore = loadAverage();
// The router signs its subgraph calls; the subgraphs, in another process, check them with the public key.
const keys = CallerTrust.generate().exportPem();
const databaseUrl =
  options.database === 'postgres'
    ? (getEnvOptional('BENCH_DATABASE_URL') ?? getEnvOptional('DATABASE_URL') ?? 'postgres://postgres@127.0.0.1:5432/postgres')
    : null;
const subgraphs = new Server('subgraphs', ['subgraphs', String(options.books), ...(databaseUrl ? [databaseUrl] : [])], {
  SHELFWISE_ROUTER_PUBLIC_KEY: keys.publicKey,
});
let router: Server | undefined;
const clients: Client[] = [];
const bus = new RedisBus({ url: redisUrl, prefix });
try {
  const { subgraphUrls, books } = await subgraphs.line<{ subgraphUrls: Record<string, string>; books: { id: string; title: string }[] }>();
  const bookIds = books.map((book) => book.id);
  const cpuProfileDir = getEnvOptional('BENCH_CPU_PROF');
  router = new Server(
    'router',
    ['router', redisUrl, prefix, JSON.stringify(subgraphUrls)],
    { SHELFWISE_ROUTER_PRIVATE_KEY: keys.privateKey! },
    cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(cpuProfileDir)] : [],
  );
  const { router: routerUrl } = await router.line<{ router: string }>();
  const routerCounters = async () => {
    const stats = await router!.stats();
    return { cpu: stats.cpu, counters: stats.stats! };
  };

  const connectStarted = performance.now();
  const titles = books.map((book): [string, string] => [book.id, book.title]);
  for (let i = 0; i < options.clients; i++) {
    const share = Math.floor(options.subscribers / options.clients) + (i < options.subscribers % options.clients ? 1 : 0);
    clients.push(
      new Client({
        url: routerUrl.replace(/^http/, 'ws'),
        query: SUBSCRIPTION,
        bookIds,
        titles,
        subscribers: share,
        totalEvents,
        delivered: delivered.buffer as SharedArrayBuffer,
      }),
    );
  }
  await Promise.all(clients.map((client) => client.ready));
  for (let tries = 0; (await routerCounters()).counters.subscribers < options.subscribers; tries++) {
    if (tries > 600) throw new Error('the subscriptions did not all register within 60 s');
    await sleep(100);
  }
  const connectSeconds = (performance.now() - connectStarted) / 1000;

  // Idle: every subscriber connected, no event.
  await sleep(1000);
  const idleStart = await routerCounters();
  const idleStarted = performance.now();
  await sleep(options.idle * 1000);
  const idleEnd = await routerCounters();
  const idleCpuShare = (cpuMicros(idleEnd.cpu) - cpuMicros(idleStart.cpu)) / 1e6 / ((performance.now() - idleStarted) / 1000);
  process.stderr.write(
    `${options.subscribers} subscribers in ${round(connectSeconds)} s; router idle at ${round(idleCpuShare, 3)} of a core; ` +
      `publishing ${totalEvents} events at ${options.rate}/s\n`,
  );

  // Publish at a fixed rate (drift-corrected). Sequence number = availableCopies.
  const interval = 1000 / options.rate;
  const start = performance.now();
  let before: Awaited<ReturnType<typeof routerCounters>> | undefined;
  let subgraphsBefore: ServerStats | undefined;
  let clientCpuBefore = process.cpuUsage();
  let windowStarted = start;
  const loadDuring: number[] = [];
  let loadSampler: NodeJS.Timeout | undefined;
  for (let seq = 0; seq < totalEvents; seq++) {
    const due = start + seq * interval;
    if (seq === warmupEvents) {
      // Halfway between the last warm-up event and the first measured one: the warm-up's fan-out is over.
      const halfway = due - interval / 2 - performance.now();
      if (halfway > 0) await sleep(halfway);
      [before, subgraphsBefore] = await Promise.all([routerCounters(), subgraphs.stats()]);
      clientCpuBefore = process.cpuUsage();
      windowStarted = performance.now();
      loadSampler = setInterval(() => loadDuring.push(os.loadavg()[0]!), 1000);
    }
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const event: BookAvailabilityEvent = {
      bookId: bookIds[seq % bookIds.length]!,
      availableCopies: seq,
      totalCopies: 1_000_000,
      at: new Date().toISOString(),
    };
    publishedAt[seq] = sharedNow();
    void bus.publish(BOOK_AVAILABILITY_CHANNEL, event).catch((err: unknown) => process.stderr.write(`publish failed: ${String(err)}\n`));
  }
  const publishSeconds = (performance.now() - start) / 1000;

  // Drain: wait for every delivery (or 10 s), then read the counters.
  const expected = options.subscribers * totalEvents;
  const drainStarted = performance.now();
  while (deliveries() < expected && performance.now() - drainStarted < 10_000) await sleep(20);
  const [after, subgraphsAfter] = await Promise.all([routerCounters(), subgraphs.stats()]);
  const clientMicros = cpuMicros(process.cpuUsage(clientCpuBefore));
  const windowSeconds = (performance.now() - windowStarted) / 1000;
  clearInterval(loadSampler);
  loadDuring.push(os.loadavg()[0]!);
  const loadAfter = loadAverage();

  const reports = await Promise.all(clients.map((client) => client.report()));
  const sum = (pick: (report: ClientReport) => number) => reports.reduce((total, report) => total + pick(report), 0);
  const duplicates = sum((r) => r.duplicates);
  const badFrames = sum((r) => r.badFrames);
  const closedEarly = sum((r) => r.closed);
  const errors = reports.flatMap((r) => r.errors).slice(0, 5);
  let lost = 0;
  const latencies: number[] = [];
  /** Per event, the first and the last subscriber's receipt: the fan-out's spread. */
  const firstAt = new Float64Array(totalEvents).fill(Infinity);
  const lastAt = new Float64Array(totalEvents);
  for (const { receivedAt } of reports) {
    for (let i = 0; i < receivedAt.length; i++) {
      const seq = i % totalEvents;
      const at = receivedAt[i]!;
      if (at === 0) {
        lost += 1;
        continue;
      }
      firstAt[seq] = Math.min(firstAt[seq]!, at);
      lastAt[seq] = Math.max(lastAt[seq]!, at);
      if (seq >= warmupEvents) latencies.push(at - publishedAt[seq]!);
    }
  }
  const sorted = Float64Array.from(latencies).sort();
  const measured = (times: Float64Array) =>
    times
      .slice(warmupEvents)
      .map((t, i) => t - publishedAt[warmupEvents + i]!)
      .sort();
  const first = measured(firstAt);
  const last = measured(lastAt);

  const measuredDeliveries = after.counters.framesSent - before!.counters.framesSent;
  const userMicros = after.cpu.user - before!.cpu.user;
  const systemMicros = after.cpu.system - before!.cpu.system;
  const routerMicros = userMicros + systemMicros;
  const idleMicros = idleCpuShare * windowSeconds * 1e6;
  const cpuMicrosPerDelivery = routerMicros / measuredDeliveries;
  const subgraphsMicros = cpuMicros(subgraphsAfter.cpu) - cpuMicros(subgraphsBefore!.cpu);
  const p99 = percentile(sorted, 99);
  const deliveriesPerCoreSecond = measuredDeliveries / (routerMicros / 1e6);

  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    /** os.loadavg(): [1, 5, 15 minutes] before and after; the 1-minute figure every second of the measured window. */
    loadAverage: {
      before: loadBefore,
      during: {
        min: round(Math.min(...loadDuring)),
        mean: round(loadDuring.reduce((a, b) => a + b, 0) / loadDuring.length),
        max: round(Math.max(...loadDuring)),
      },
      after: loadAfter,
    },
    options,
    connectSeconds: round(connectSeconds),
    publishSeconds: round(publishSeconds),
    subscribersClosedEarly: closedEarly,
    events: totalEvents,
    expectedDeliveries: expected,
    deliveries: deliveries(),
    lost,
    duplicates,
    badFrames,
    errors,
    latencyMs: {
      samples: sorted.length,
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
      p99: round(p99),
      max: round(sorted.at(-1) ?? NaN),
      /** Per event: publish → the first subscriber's receipt (Redis hop, gateway query, first write). */
      firstSubscriber: { p50: round(percentile(first, 50)), p99: round(percentile(first, 99)) },
      /** Per event: publish → the last subscriber's receipt (the whole fan-out, sent and read serially). */
      lastSubscriber: { p50: round(percentile(last, 50)), p99: round(percentile(last, 99)) },
    },
    /** The router process alone, over the measured window (warm-up excluded). */
    router: {
      measuredEvents,
      measuredDeliveries,
      windowSeconds: round(windowSeconds),
      deliveriesPerSecond: round(measuredDeliveries / windowSeconds, 0),
      cpuSeconds: round(routerMicros / 1e6, 3),
      cpuMicrosPerDelivery: round(cpuMicrosPerDelivery),
      userMicrosPerDelivery: round(userMicros / measuredDeliveries),
      systemMicrosPerDelivery: round(systemMicros / measuredDeliveries),
      /** Deliveries per second one core would sustain at this CPU cost. */
      deliveriesPerCoreSecond: round(deliveriesPerCoreSecond, 0),
      cpuShareOfOneCore: round(routerMicros / 1e6 / windowSeconds, 3),
      /** With no event at all (keep-alive pings, timers), measured before publishing. */
      idleCpuShareOfOneCore: round(idleCpuShare, 4),
      /** The same, less the idle share over the window: the cost of delivering alone. */
      cpuMicrosPerDeliveryAboveIdle: round((routerMicros - idleMicros) / measuredDeliveries),
      gatewayExecutions: after.counters.gatewayExecutions - before!.counters.gatewayExecutions,
      payloadsSerialized: after.counters.payloadsSerialized - before!.counters.payloadsSerialized,
      groups: after.counters.groups,
    },
    /** The subgraphs' process (answering the per-event gateway query), over the same window. */
    subgraphsProcess: { cpuSeconds: round(subgraphsMicros / 1e6, 3), cpuMillisPerEvent: round(subgraphsMicros / 1e3 / measuredEvents) },
    /** This process (publishing, and `--clients` threads reading every frame), over the same window. */
    subscriberProcess: { cpuSeconds: round(clientMicros / 1e6, 3), cpuMicrosPerDelivery: round(clientMicros / measuredDeliveries) },
    target: {
      p99Ms: TARGET.p99Ms,
      deliveriesPerCoreSecond: TARGET.deliveriesPerCoreSecond,
      p99Met: p99 <= TARGET.p99Ms,
      throughputMet: deliveriesPerCoreSecond >= TARGET.deliveriesPerCoreSecond,
    },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  await mkdir(resultsDir, { recursive: true });
  await writeFile(path.join(resultsDir, 'subscriptions-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  if (lost > 0 || duplicates > 0 || badFrames > 0) process.exitCode = 1;
} finally {
  await bus.dispose();
  await Promise.all([...clients.map((client) => client.stop()), router?.stop(), subgraphs.stop()]);
}

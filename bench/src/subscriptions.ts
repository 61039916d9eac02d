/**
 * `npx tsx bench/src/subscriptions.ts [-- --subscribers 1000 --rate 10 --seconds 30 --warmup 3 --books 10]`:
 * live push at scale (docs/benchmarks.md, "Subscriptions"). Needs Redis (REDIS_URL, else
 * redis://127.0.0.1:6379).
 *
 * 1. The platform and its router run in a child process (subscriptionsServe.ts) on a Redis bus with a
 *    channel prefix of this run, so the router's CPU time (process.cpuUsage) is measured apart from the
 *    subscribers'.
 * 2. `--subscribers` WebSockets (raw graphql-transport-ws, anonymous, from this process) each subscribe
 *    to `bookAvailabilityChanged` for all `--books` books, with a nested field fetched through the
 *    gateway (`book { title }`): one group, so one gateway query per event.
 * 3. Availability events are published on Redis at `--rate` per second, as books publishes them after a
 *    commit; each carries its sequence number in `availableCopies`. Latency is publish → receipt on the
 *    subscriber's socket (both timed here with performance.now(), so the Redis hop is included), over
 *    every delivery after the warm-up. Every subscriber must receive every event: lost and duplicate
 *    deliveries are counted.
 * 4. Printed and written to bench/results/subscriptions-latest.json with the load average (the machine
 *    may be shared; record it with the figures).
 */
import { execSync, spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BOOK_AVAILABILITY_CHANNEL, getEnvOptional, RedisBus, type BookAvailabilityEvent } from '@shelfwise/kit';
import { WebSocket } from 'ws';

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, '..', 'results');

function flags(argv: string[]): { subscribers: number; rate: number; seconds: number; warmup: number; books: number } {
  const values: Record<string, number> = { subscribers: 1000, rate: 10, seconds: 30, warmup: 3, books: 10 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '') ?? '';
    const value = Number(argv[i + 1]?.replace(/_/g, ''));
    if (!(name in values) || !Number.isInteger(value) || value < 1) {
      throw new Error('Usage: tsx bench/src/subscriptions.ts [--subscribers N] [--rate R] [--seconds S] [--warmup S] [--books B]');
    }
    values[name] = value;
  }
  if (values.books! > 100) throw new Error('--books is at most 100 (one subscription watches at most 100 books).');
  return values as ReturnType<typeof flags>;
}

const options = flags(process.argv.slice(2).filter((arg) => arg !== '--'));
const redisUrl = getEnvOptional('REDIS_URL') ?? 'redis://127.0.0.1:6379';
const prefix = `bench-subscriptions-${process.pid}`;
const uptime = () => execSync('uptime').toString().trim();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const SUBSCRIPTION = `subscription BenchWatch($ids: [ID!]!) {
  bookAvailabilityChanged(bookIds: $ids) { bookId availableCopies totalCopies book { title } }
}`;

interface ServerStats {
  cpu: NodeJS.CpuUsage;
  stats: { connections: number; subscribers: number; groups: number; events: number; gatewayExecutions: number; framesSent: number };
}

// --- the server process -------------------------------------------------------------------------------
const child = spawn(
  process.execPath,
  ['--import', 'tsx', path.join(here, 'subscriptionsServe.ts'), redisUrl, prefix, String(options.books)],
  {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, APOLLO_TELEMETRY_DISABLED: 'true', LOG_LEVEL: 'warn' },
  },
);
const lines: string[] = [];
const waiting: ((line: string) => void)[] = [];
createInterface({ input: child.stdout! }).on('line', (line) => {
  const next = waiting.shift();
  if (next) next(line);
  else lines.push(line);
});
const childExited = new Promise<never>((_, reject) =>
  child.once('exit', (code) => reject(new Error(`the bench server exited (code ${code})`))),
);
const nextLine = () =>
  Promise.race([childExited, new Promise<string>((resolve) => (lines.length > 0 ? resolve(lines.shift()!) : waiting.push(resolve)))]);
const serverStats = async (): Promise<ServerStats> => {
  child.stdin!.write('stats\n');
  return JSON.parse(await nextLine()) as ServerStats;
};

// --- subscribers ----------------------------------------------------------------------------------------
interface Subscriber {
  socket: WebSocket;
  /** 1 per event sequence number received. */
  received: Uint8Array;
  duplicates: number;
  errors: string[];
  closed: boolean;
}

const warmupEvents = options.warmup * options.rate;
const measuredEvents = options.seconds * options.rate;
const totalEvents = warmupEvents + measuredEvents;
const publishedAt = new Float64Array(totalEvents);
/** When the first and the last subscriber received each event: the fan-out's spread. */
const firstAt = new Float64Array(totalEvents);
const lastAt = new Float64Array(totalEvents);
const latencies = new Float64Array(options.subscribers * measuredEvents);
let latencyCount = 0;
let deliveries = 0;

function openSubscriber(url: string, bookIds: string[]): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', { perMessageDeflate: false });
    const subscriber: Subscriber = { socket, received: new Uint8Array(totalEvents), duplicates: 0, errors: [], closed: false };
    let acked = false;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
    socket.on('error', (err) => {
      subscriber.errors.push(err.message);
      if (!acked) reject(err);
    });
    socket.on('close', (code, reason) => {
      subscriber.closed = true;
      if (!acked) reject(new Error(`closed before connection_ack: ${code} ${reason.toString()}`));
    });
    socket.on('message', (data: Buffer) => {
      const now = performance.now();
      const message = JSON.parse(data.toString()) as {
        type: string;
        payload?: { data?: { bookAvailabilityChanged?: { availableCopies: number } } };
      };
      if (message.type === 'next') {
        const seq = message.payload?.data?.bookAvailabilityChanged?.availableCopies;
        if (seq === undefined || seq < 0 || seq >= totalEvents) {
          subscriber.errors.push(`unexpected frame ${data.toString().slice(0, 200)}`);
          return;
        }
        if (subscriber.received[seq]) {
          subscriber.duplicates += 1;
          return;
        }
        subscriber.received[seq] = 1;
        deliveries += 1;
        if (firstAt[seq] === 0) firstAt[seq] = now;
        lastAt[seq] = now;
        if (seq >= warmupEvents) latencies[latencyCount++] = now - publishedAt[seq]!;
      } else if (message.type === 'connection_ack') {
        acked = true;
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBSCRIPTION, variables: { ids: bookIds } } }));
        resolve(subscriber);
      } else if (message.type === 'error' || message.type === 'complete') {
        subscriber.errors.push(`${message.type}: ${data.toString().slice(0, 200)}`);
      }
    });
  });
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

const bus = new RedisBus({ url: redisUrl, prefix });
try {
  const loadBefore = uptime();
  const { router, bookIds } = JSON.parse(await nextLine()) as { router: string; bookIds: string[] };
  const wsUrl = router.replace(/^http/, 'ws');

  // Connect in batches: a thousand simultaneous handshakes would measure the accept queue, not push.
  const connectStarted = performance.now();
  const subscribers: Subscriber[] = [];
  for (let i = 0; i < options.subscribers; i += 50) {
    const batch = Array.from({ length: Math.min(50, options.subscribers - i) }, () => openSubscriber(wsUrl, bookIds));
    subscribers.push(...(await Promise.all(batch)));
  }
  for (let tries = 0; (await serverStats()).stats.subscribers < options.subscribers; tries++) {
    if (tries > 600) throw new Error('the subscriptions did not all register within 60 s');
    await sleep(100);
  }
  const connectSeconds = (performance.now() - connectStarted) / 1000;
  process.stderr.write(
    `${options.subscribers} subscribers in ${round(connectSeconds)} s; publishing ${totalEvents} events at ${options.rate}/s\n`,
  );

  // Publish at a fixed rate (drift-corrected). Sequence number = availableCopies.
  const interval = 1000 / options.rate;
  const start = performance.now();
  let before: ServerStats | undefined;
  const clientCpuBefore = { value: process.cpuUsage() };
  for (let seq = 0; seq < totalEvents; seq++) {
    if (seq === warmupEvents) {
      before = await serverStats();
      clientCpuBefore.value = process.cpuUsage();
    }
    const due = start + seq * interval;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const event: BookAvailabilityEvent = {
      bookId: bookIds[seq % bookIds.length]!,
      availableCopies: seq,
      totalCopies: 1_000_000,
      at: new Date().toISOString(),
    };
    publishedAt[seq] = performance.now();
    void bus.publish(BOOK_AVAILABILITY_CHANNEL, event).catch((err: unknown) => process.stderr.write(`publish failed: ${String(err)}\n`));
  }
  const publishSeconds = (performance.now() - start) / 1000;

  // Drain: wait for every delivery (or 10 s), then read the server's counters.
  const expected = options.subscribers * totalEvents;
  const drainStarted = performance.now();
  while (deliveries < expected && performance.now() - drainStarted < 10_000) await sleep(20);
  const after = await serverStats();
  const clientCpu = process.cpuUsage(clientCpuBefore.value);
  const loadAfter = uptime();

  const connected = subscribers.filter((s) => !s.closed).length;
  const lost = subscribers.reduce((sum, s) => sum + (s.closed ? 0 : s.received.reduce((missing, got) => missing + (got ? 0 : 1), 0)), 0);
  const duplicates = subscribers.reduce((sum, s) => sum + s.duplicates, 0);
  const errors = subscribers.flatMap((s) => s.errors).slice(0, 5);
  const sorted = latencies.slice(0, latencyCount).sort();
  const measured = (times: Float64Array) =>
    times
      .slice(warmupEvents)
      .map((t, i) => t - publishedAt[warmupEvents + i]!)
      .sort();
  const first = measured(firstAt);
  const last = measured(lastAt);
  const measuredDeliveries = after.stats.framesSent - before!.stats.framesSent;
  const routerCpuMicros = after.cpu.user + after.cpu.system - (before!.cpu.user + before!.cpu.system);
  const windowSeconds = (performance.now() - (start + warmupEvents * interval)) / 1000;

  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, node: process.version },
    uptimeBefore: loadBefore,
    uptimeAfter: loadAfter,
    options,
    connectSeconds: round(connectSeconds),
    publishSeconds: round(publishSeconds),
    subscribersConnectedAtEnd: connected,
    events: totalEvents,
    expectedDeliveries: expected,
    deliveries,
    lost,
    duplicates,
    errors,
    latencyMs: {
      samples: sorted.length,
      p50: round(percentile(sorted, 50)),
      p90: round(percentile(sorted, 90)),
      p99: round(percentile(sorted, 99)),
      max: round(sorted.at(-1) ?? NaN),
      /** Per event: publish → the first subscriber's receipt (Redis hop, gateway query, first write). */
      firstSubscriber: { p50: round(percentile(first, 50)), p99: round(percentile(first, 99)) },
      /** Per event: publish → the last subscriber's receipt (the whole fan-out, sent and read serially). */
      lastSubscriber: { p50: round(percentile(last, 50)), p99: round(percentile(last, 99)) },
    },
    router: {
      measuredEvents,
      measuredDeliveries,
      deliveriesPerSecond: round(measuredDeliveries / windowSeconds, 0),
      cpuSeconds: round(routerCpuMicros / 1e6, 3),
      cpuMicrosPerDelivery: round(routerCpuMicros / measuredDeliveries, 2),
      deliveriesPerCpuSecond: round(measuredDeliveries / (routerCpuMicros / 1e6), 0),
      cpuShareOfOneCore: round(routerCpuMicros / 1e6 / windowSeconds, 3),
      gatewayExecutions: after.stats.gatewayExecutions - before!.stats.gatewayExecutions,
      groups: after.stats.groups,
    },
    subscriberProcess: { cpuSeconds: round((clientCpu.user + clientCpu.system) / 1e6, 3) },
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  await mkdir(resultsDir, { recursive: true });
  await writeFile(path.join(resultsDir, 'subscriptions-latest.json'), `${JSON.stringify(result, null, 2)}\n`);
  for (const subscriber of subscribers) subscriber.socket.close(1000);
  if (lost > 0 || duplicates > 0) process.exitCode = 1;
} finally {
  await bus.dispose();
  child.stdin!.write('stop\n');
  await Promise.race([new Promise((resolve) => child.once('exit', resolve)), sleep(15_000)]);
  if (child.exitCode === null) child.kill('SIGTERM');
}

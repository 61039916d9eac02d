/**
 * `npm run bench`: the router's overhead. The same one-fetch query is sent at concurrency 50 to the books
 * subgraph directly and through the router; throughput, p50 and p99 latency and the router/direct ratio
 * are printed and written to bench/results/latest.json. Every request stays on this machine (loopback).
 *
 * Env: BENCH_SECONDS (default 10 per run), BENCH_CONNECTIONS (50), BENCH_WARMUP_SECONDS (3),
 * BENCH_DATABASE_URL (books on that PostgreSQL server instead of the embedded PGlite).
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CALLER_HEADER, CallerTrust } from '@shelfwise/kit';
import autocannon from 'autocannon';

const here = path.dirname(fileURLToPath(import.meta.url));
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const warmup = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
if (seconds > 50 || warmup > 50)
  throw new Error('BENCH_SECONDS and BENCH_WARMUP_SECONDS are at most 50: a router credential is valid for 60 s.');

/** A router key for this run only: the direct calls carry a credential signed with it, as the router's do. */
const trust = CallerTrust.generate();
const credential = () => trust.sign({ viewer: null, clientAddress: null });

/** One fetch to one subgraph: a page of the catalogue with scalar fields only. */
export const QUERY = `query BenchCatalog { books(first: 10, sort: TITLE) { totalCount edges { node { id isbn title authors publishedYear } } } }`;

interface Measurement {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  non2xx: number;
}

async function measure(url: string, duration: number): Promise<Measurement> {
  const result = await autocannon({
    url,
    connections,
    duration,
    method: 'POST',
    // A fresh credential per run (the router replaces it on its side; the subgraph requires it).
    headers: { 'content-type': 'application/json', [CALLER_HEADER]: credential() },
    body: JSON.stringify({ query: QUERY }),
  });
  return {
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

async function checkAnswer(url: string): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', [CALLER_HEADER]: credential() },
    body: JSON.stringify({ query: QUERY }),
  });
  const body = (await res.json()) as { data?: { books?: { edges: unknown[] } }; errors?: unknown };
  if (!res.ok || body.errors || body.data?.books?.edges.length !== 10)
    throw new Error(`${url} did not answer the benchmark query: ${JSON.stringify(body)}`);
}

const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'serve.ts')], {
  stdio: ['ignore', 'pipe', 'inherit'],
  env: { ...process.env, APOLLO_TELEMETRY_DISABLED: 'true', LOG_LEVEL: 'warn', SHELFWISE_ROUTER_PRIVATE_KEY: trust.exportPem().privateKey },
});
try {
  const line = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`bench servers exited early (code ${code})`)));
  });
  const { direct, router, database } = JSON.parse(line) as { direct: string; router: string; database: string };
  await checkAnswer(direct);
  await checkAnswer(router);

  console.log(`warming up (${warmup}s each)…`);
  await measure(direct, warmup);
  await measure(router, warmup);

  console.log(`measuring ${seconds}s each at concurrency ${connections}…`);
  const directResult = await measure(direct, seconds);
  const routerResult = await measure(router, seconds);
  const ratio = routerResult.requestsPerSecond / directResult.requestsPerSecond;

  const report = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    query: QUERY,
    subgraphDatabase: database,
    connections,
    seconds,
    direct: directResult,
    router: routerResult,
    ratio: Number(ratio.toFixed(3)),
  };
  console.table({
    direct: {
      'req/s': Math.round(directResult.requestsPerSecond),
      'p50 ms': directResult.p50Ms,
      'p99 ms': directResult.p99Ms,
      errors: directResult.errors + directResult.non2xx,
    },
    router: {
      'req/s': Math.round(routerResult.requestsPerSecond),
      'p50 ms': routerResult.p50Ms,
      'p99 ms': routerResult.p99Ms,
      errors: routerResult.errors + routerResult.non2xx,
    },
  });
  console.log(`router/direct throughput ratio: ${report.ratio} (books on ${database})`);
  const out = path.join(here, '..', 'results');
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
  if (directResult.errors + directResult.non2xx + routerResult.errors + routerResult.non2xx > 0) {
    console.error('Some requests failed; the figures above are not valid.');
    process.exitCode = 1;
  }
} finally {
  child.kill('SIGTERM');
}

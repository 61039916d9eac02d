/**
 * The server side of `bench/src/subscriptions.ts`, in processes of its own so that the router's CPU time
 * is the router's alone: the subscribers live in the parent, and the subgraphs in a second child.
 *
 * - `subgraphs`: the whole platform (an in-memory bus of its own: the bench's synthetic events do not
 *   reach reservations), with `<books>` books created. With `<databaseUrl>`, each subgraph gets a fresh
 *   database of its own on that PostgreSQL server (`shelfwise_bench_subs_<subgraph>_<random>`, dropped at
 *   stop), as deployed; without, in-memory PGlite. Prints `{ subgraphUrls, books }`.
 * - `router`: one router alone on loopback (anonymous callers only, rate limits off: every subscriber
 *   connects from 127.0.0.1), routing to `<subgraphUrls>` and subscribed to the Redis bus under
 *   `<prefix>`, where the parent publishes. Prints `{ router }`.
 *
 * The router signs its calls with SHELFWISE_ROUTER_PRIVATE_KEY and the subgraphs check them with
 * SHELFWISE_ROUTER_PUBLIC_KEY (the parent generates the pair), as separately deployed services do.
 *
 * Once listening, each answers lines on stdin: `stats` → one JSON line with `process.cpuUsage()` (and,
 * for the router, its subscription counters); `stop` → stops and exits.
 *
 * argv: subgraphs <books> [<databaseUrl>] | router <redisUrl> <prefix> <subgraphUrls JSON>
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { configureCallerTrust, createLogger, dropDatabase, RedisBus, SUBGRAPH_NAMES, type SubgraphName } from '@shelfwise/kit';
import { startRouter } from '@shelfwise/router';
import { startPlatform } from '@shelfwise/router/platform';

const USAGE = 'Usage: subscriptionsServe.ts subgraphs <books> [<databaseUrl>] | router <redisUrl> <prefix> <subgraphUrls JSON>';
const [role, ...args] = process.argv.slice(2);
const logger = createLogger('bench', 'warn');

let stats: () => Record<string, unknown>;
let stopServer: () => Promise<void>;

if (role === 'subgraphs') {
  const books = Number(args[0]);
  if (!Number.isInteger(books) || books < 1) throw new Error(USAGE);
  configureCallerTrust('subgraph');
  const databaseUrl = args[1];
  const suffix = randomBytes(4).toString('hex');
  const databases = databaseUrl
    ? (Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, `shelfwise_bench_subs_${name}_${suffix}`])) as Record<SubgraphName, string>)
    : null;
  const dropDatabases = async () => {
    if (databaseUrl && databases)
      await Promise.all(Object.values(databases).map((name) => dropDatabase(databaseUrl, name).catch(() => undefined)));
  };
  const platform = await startPlatform({
    logger,
    ...(databases && {
      subgraphs: Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, { databaseUrl, databaseName: databases[name] }])),
    }),
  }).catch(async (err: unknown) => {
    await dropDatabases();
    throw err;
  });
  const created: { id: string; title: string }[] = [];
  try {
    for (let i = 0; i < books; i++) {
      const book = await platform.subgraphs.books.books.create({
        isbn: `978${String(2_000_000_000 + i)}`,
        title: `Watched Book ${String(i).padStart(2, '0')}`,
        authors: ['Bench Author'],
        copies: 1,
      });
      created.push({ id: book.id, title: book.title });
    }
  } catch (err) {
    await platform.stop();
    await dropDatabases();
    throw err;
  }
  const subgraphUrls = Object.fromEntries(platform.router.subgraphs.map((route) => [route.name, route.url]));
  process.stdout.write(`${JSON.stringify({ subgraphUrls, books: created })}\n`);
  stats = () => ({ cpu: process.cpuUsage() });
  stopServer = async () => {
    await platform.stop();
    await dropDatabases();
  };
} else if (role === 'router') {
  const [redisUrl, prefix, urls] = args;
  if (!redisUrl || !prefix || !urls) throw new Error(USAGE);
  configureCallerTrust('router');
  const bus = new RedisBus({ url: redisUrl, prefix, logger });
  const router = await startRouter({
    port: 0,
    host: '127.0.0.1',
    logger,
    bus,
    subgraphUrls: JSON.parse(urls) as Record<string, string>,
    rateLimit: { ipPerMinute: 0, userPerMinute: 0 },
  });
  process.stdout.write(`${JSON.stringify({ router: router.url })}\n`);
  stats = () => ({ cpu: process.cpuUsage(), stats: router.subscriptionStats() });
  stopServer = async () => {
    await router.stop();
    await bus.dispose();
  };
} else {
  throw new Error(USAGE);
}

const stop = async () => {
  await stopServer();
  process.exit(0);
};

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'stats') process.stdout.write(`${JSON.stringify(stats())}\n`);
  else if (line === 'stop') void stop();
});
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

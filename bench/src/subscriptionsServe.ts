/**
 * The server side of `bench/src/subscriptions.ts`, in processes of its own so that the router's CPU time
 * is the router's alone: the subscribers live in the parent, and the subgraphs in a second child.
 *
 * - `subgraphs`: the whole platform (PGlite, an in-memory bus of its own: the bench's synthetic events
 *   do not reach reservations), with `<books>` books created. Prints `{ subgraphUrls, books }`.
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
 * argv: subgraphs <books> | router <redisUrl> <prefix> <subgraphUrls JSON>
 */
import { createInterface } from 'node:readline';
import { configureCallerTrust, createLogger, RedisBus } from '@shelfwise/kit';
import { startRouter } from '@shelfwise/router';
import { startPlatform } from '@shelfwise/router/platform';

const USAGE = 'Usage: subscriptionsServe.ts subgraphs <books> | router <redisUrl> <prefix> <subgraphUrls JSON>';
const [role, ...args] = process.argv.slice(2);
const logger = createLogger('bench', 'warn');

let stats: () => Record<string, unknown>;
let stopServer: () => Promise<void>;

if (role === 'subgraphs') {
  const books = Number(args[0]);
  if (!Number.isInteger(books) || books < 1) throw new Error(USAGE);
  configureCallerTrust('subgraph');
  const platform = await startPlatform({ logger });
  const created: { id: string; title: string }[] = [];
  for (let i = 0; i < books; i++) {
    const book = await platform.subgraphs.books.books.create({
      isbn: `978${String(2_000_000_000 + i)}`,
      title: `Watched Book ${String(i).padStart(2, '0')}`,
      authors: ['Bench Author'],
      copies: 1,
    });
    created.push({ id: book.id, title: book.title });
  }
  const subgraphUrls = Object.fromEntries(platform.router.subgraphs.map((route) => [route.name, route.url]));
  process.stdout.write(`${JSON.stringify({ subgraphUrls, books: created })}\n`);
  stats = () => ({ cpu: process.cpuUsage() });
  stopServer = () => platform.stop();
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

/**
 * The server side of `bench/src/subscriptions.ts`, in its own process so the router's CPU time is its own
 * (the subscribers live in the parent): the whole platform (PGlite) with its router on loopback, on a
 * Redis bus under a channel prefix of this run. Prints one JSON line `{ router, bookIds, prefix }` once it
 * listens, then answers each line on stdin: `stats` → one JSON line with `process.cpuUsage()` and the
 * router's subscription counters; `stop` → stops and exits.
 *
 * argv: <redisUrl> <prefix> <books>
 */
import { createInterface } from 'node:readline';
import { createLogger, RedisBus } from '@shelfwise/kit';
import { startPlatform } from '@shelfwise/router/platform';

const [redisUrl, prefix, booksArg] = process.argv.slice(2);
if (!redisUrl || !prefix || !booksArg) throw new Error('Usage: subscriptionsServe.ts <redisUrl> <prefix> <books>');

const logger = createLogger('bench', 'warn');
const bus = new RedisBus({ url: redisUrl, prefix, logger });
const platform = await startPlatform({
  bus,
  logger,
  // Every subscriber connects from 127.0.0.1: the per-address rate limit would measure refusals, so it
  // is off here (each upgrade and subscribe message would otherwise take a token).
  router: { rateLimit: { ipPerMinute: 0, userPerMinute: 0 } },
});

const bookIds: string[] = [];
for (let i = 0; i < Number(booksArg); i++) {
  const book = await platform.subgraphs.books.books.create({
    isbn: `978${String(2_000_000_000 + i)}`,
    title: `Watched Book ${String(i).padStart(2, '0')}`,
    authors: ['Bench Author'],
    copies: 1,
  });
  bookIds.push(book.id);
}

process.stdout.write(`${JSON.stringify({ router: platform.router.url, bookIds, prefix })}\n`);

const stop = async () => {
  await platform.stop();
  await bus.dispose();
  process.exit(0);
};

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'stats') {
    process.stdout.write(`${JSON.stringify({ cpu: process.cpuUsage(), stats: platform.router.subscriptionStats() })}\n`);
  } else if (line === 'stop') {
    void stop();
  }
});
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

/**
 * The servers under test, in their own process so the load generator does not share their event loop:
 * the books subgraph (embedded PGlite, a seeded catalogue) and the router in front of it. Prints one JSON
 * line `{ "direct": url, "router": url }` when both listen, then runs until killed.
 */
import { configureCallerTrust, createLogger, dropDatabase, getEnvOptional } from '@shelfwise/kit';
import { start as startBooks } from '@shelfwise/books';
import { startRouter } from '@shelfwise/router';

const BOOKS = 200;

const logger = createLogger('bench', 'warn');
// The load generator calls the subgraph directly as the router would: it holds the same router key
// (SHELFWISE_ROUTER_PRIVATE_KEY, made by run.ts for this run) and signs its own credential.
configureCallerTrust('router');
// BENCH_DATABASE_URL: put the books subgraph on a real PostgreSQL (a scratch database, dropped at the
// end) instead of the embedded PGlite, so the subgraph itself is faster and the router's share larger.
const databaseUrl = getEnvOptional('BENCH_DATABASE_URL');
const databaseName = `bench_books_${process.pid}`;
const books = await startBooks({ port: 0, logger, ...(databaseUrl ? { databaseUrl, databaseName } : {}) });
for (let i = 0; i < BOOKS; i++) {
  await books.books.create({
    isbn: `978${String(1_000_000_000 + i)}`,
    title: `Benchmark Book ${String(i).padStart(3, '0')}`,
    authors: [`Author ${i % 17}`],
    genres: [['Fiction', 'History', 'Science'][i % 3] as string],
    publishedYear: 1950 + (i % 70),
    copies: 1 + (i % 3),
  });
}
// Every request comes from 127.0.0.1: the per-address rate limit would measure refusals, so it is off here.
const router = await startRouter({ port: 0, host: '127.0.0.1', subgraphUrls: { books: books.url }, rateLimit: { ipPerMinute: 0 }, logger });

process.stdout.write(`${JSON.stringify({ direct: books.url, router: router.url, database: books.database.db.kind })}\n`);

const stop = async () => {
  await router.stop();
  await books.stop();
  if (databaseUrl) await dropDatabase(databaseUrl, databaseName);
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

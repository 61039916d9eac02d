/**
 * The servers under test, in their own process so the load generator does not share their event loop:
 * the books subgraph (embedded PGlite, a seeded catalogue) and the router in front of it. Prints one JSON
 * line `{ "direct": url, "router": url }` when both listen, then runs until killed.
 */
import { createLogger } from '@shelfwise/kit';
import { start as startBooks } from '@shelfwise/books';
import { startRouter } from '@shelfwise/router';

const BOOKS = 200;

const logger = createLogger('bench', 'warn');
const books = await startBooks({ port: 0, logger });
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
const router = await startRouter({ port: 0, host: '127.0.0.1', subgraphUrls: { books: books.url }, logger });

process.stdout.write(`${JSON.stringify({ direct: books.url, router: router.url })}\n`);

const stop = async () => {
  await router.stop();
  await books.stop();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

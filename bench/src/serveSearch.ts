/**
 * The server under test for `npm run bench:search`, in its own process so the load generator does not
 * share its event loop: the books subgraph on an existing, already seeded PostgreSQL database, with the
 * service's default connection pool unless a size is given. Prints one JSON line `{ "url": … }` when it
 * listens, then runs until killed.
 */
import { configureCallerTrust, createLogger } from '@shelfwise/kit';
import { start as startBooks } from '@shelfwise/books';

const [databaseUrl, databaseName, pool] = process.argv.slice(2);
if (!databaseUrl || !databaseName) throw new Error('usage: serveSearch.ts <server url> <database name> [pool size]');
// The load generator calls the subgraph as the router would, with a credential signed by the run's key.
configureCallerTrust('router');
const books = await startBooks({
  port: 0,
  logger: createLogger('bench', 'warn'),
  databaseUrl,
  databaseName,
  poolSize: pool ? Number(pool) : undefined,
});
process.stdout.write(`${JSON.stringify({ url: books.url })}\n`);

const stop = async () => {
  await books.stop();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());

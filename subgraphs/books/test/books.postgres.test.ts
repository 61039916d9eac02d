import { dropTestDatabase, freshDatabaseName, hasPostgres, TEST_DATABASE_URL } from '@shelfwise/testkit';
import { describeBooksSubgraph } from './suite.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;
const databaseName = freshDatabaseName('books');

describeBooksSubgraph(
  'books subgraph (real Postgres)',
  describePg,
  () => ({ databaseUrl: TEST_DATABASE_URL, databaseName }),
  () => dropTestDatabase(databaseName),
);

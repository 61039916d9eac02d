import { dropTestDatabase, freshDatabaseName, hasPostgres, TEST_DATABASE_URL } from '@shelfwise/testkit';
import { describeSearch } from './searchSuite.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;
const databaseName = freshDatabaseName('search');

describeSearch(
  'catalogue search (real Postgres)',
  describePg,
  () => ({ databaseUrl: TEST_DATABASE_URL, databaseName }),
  () => dropTestDatabase(databaseName),
);

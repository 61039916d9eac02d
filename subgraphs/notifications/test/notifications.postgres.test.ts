import { dropTestDatabase, freshDatabaseName, hasPostgres, TEST_DATABASE_URL } from '@shelfwise/testkit';
import { describeNotificationsSubgraph } from './suite.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;
const databaseName = freshDatabaseName('notifications');

describeNotificationsSubgraph(
  'notifications subgraph (real Postgres)',
  describePg,
  () => ({ databaseUrl: TEST_DATABASE_URL, databaseName }),
  () => dropTestDatabase(databaseName),
);

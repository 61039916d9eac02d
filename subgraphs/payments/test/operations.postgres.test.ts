import { dropTestDatabase, freshDatabaseName, hasPostgres, TEST_DATABASE_URL } from '@shelfwise/testkit';
import { describePaymentOperations } from './operations.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;
const databaseName = freshDatabaseName('payments_ops');

describePaymentOperations(
  'payments operations (real Postgres)',
  describePg,
  () => ({ databaseUrl: TEST_DATABASE_URL, databaseName }),
  () => dropTestDatabase(databaseName),
  { concurrency: true },
);

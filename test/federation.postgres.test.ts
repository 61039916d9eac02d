import { SUBGRAPH_NAMES } from '@shelfwise/kit';
import { dropTestDatabase, freshDatabaseName, hasPostgres, TEST_DATABASE_URL } from '@shelfwise/testkit';
import { describeFederation } from '../router/test/platformSuite.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;

// A fresh database per subgraph on the test server, as each service owns its own database in production.
const databaseNames = Object.fromEntries(SUBGRAPH_NAMES.map((name) => [name, freshDatabaseName(`federation_${name}`)]));

describeFederation(
  'the federated graph (real Postgres, a database per subgraph)',
  describePg,
  () => ({
    subgraphs: Object.fromEntries(
      SUBGRAPH_NAMES.map((name) => [name, { port: 0, databaseUrl: TEST_DATABASE_URL, databaseName: databaseNames[name] }]),
    ),
  }),
  async () => {
    await Promise.all(Object.values(databaseNames).map((name) => dropTestDatabase(name)));
  },
);

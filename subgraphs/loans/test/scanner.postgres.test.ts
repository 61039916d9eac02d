/** Two loans instances scanning one Postgres database at once never publish an event twice. */
import { InMemoryBus, ServiceClock, type ServiceOptions } from '@shelfwise/kit';
import { dropTestDatabase, freshDatabaseName, hasPostgres, TEST_DATABASE_URL } from '@shelfwise/testkit';
import { start, type LoansHandle } from '../src/server.js';
import { collect, seedLoans } from './scannerKit.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;

describePg('two loans instances scanning one database (real Postgres)', () => {
  const databaseName = freshDatabaseName('loans_scan');
  const clock = new ServiceClock(true);
  const bus = new InMemoryBus();
  const events = collect(bus);
  let one: LoansHandle;
  let two: LoansHandle;

  beforeAll(async () => {
    const options: ServiceOptions = { databaseUrl: TEST_DATABASE_URL, databaseName, clock, bus };
    const circulation = { scanIntervalMs: 0, reconcileIntervalMs: 0 };
    one = await start({ ...options, circulation });
    two = await start({ ...options, circulation });
  });
  afterAll(async () => {
    await one?.stop();
    await two?.stop();
    await bus.dispose();
    await dropTestDatabase(databaseName);
  });

  it('publishes each event exactly once however the scans interleave', async () => {
    // 150 loans overdue and 150 due within the week: 300 events, more than two publish batches each.
    const loans = await seedLoans(one, clock, [
      ...Array.from({ length: 150 }, () => -2),
      ...Array.from({ length: 150 }, (_, i) => 1 + (i % 6)),
    ]);
    const statements = one.database.db.stats.statements;
    await Promise.all([one.scanner.runNow(), two.scanner.runNow(), one.scanner.runNow(), two.scanner.runNow()]);
    await Promise.all([one.scanner.runNow(), two.scanner.runNow()]);
    await new Promise((r) => setTimeout(r, 100));
    const ids = events.map((e) => e.id);
    expect(ids).toHaveLength(300);
    expect(new Set(ids).size).toBe(300);
    expect(new Set(events.filter((e) => e.type === 'OVERDUE').map((e) => e.loanId))).toEqual(new Set(loans.slice(0, 150).map((l) => l.id)));
    const published = await one.database.prisma.loanEvent.count({ where: { publishedAt: { not: null } } });
    expect(published).toBe(300);
    // Recording costs two statements per scan whatever the number of loans.
    expect(one.database.db.stats.statements - statements).toBeLessThan(40);
  });
});

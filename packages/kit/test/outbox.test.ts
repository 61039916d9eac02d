import { PGlite, type Transaction } from '@electric-sql/pglite';
import {
  createLogger,
  DOMAIN_EVENTS_CHANNEL,
  DOMAIN_EVENTS_STREAM,
  emitDomainEvent,
  InMemoryBus,
  OutboxRelay,
  publishOutboxBatch,
  relayOutbox,
  type DomainEvent,
  type EventBus,
  type OutboxBatch,
  type OutboxSql,
  type OutboxTable,
} from '@shelfwise/kit';
import { eventually } from '@shelfwise/testkit';

const event = (n: number): DomainEvent => ({
  id: `E:${n}`,
  type: 'FINE_ASSESSED',
  userId: '00000000-0000-4000-8000-000000000001',
  occurredAt: '2026-11-23T10:00:00.000Z',
  source: 'test',
});

/** An outbox in memory: rows are marked only when every publish of the batch succeeded. */
function memoryOutbox(count: number) {
  const rows = Array.from({ length: count }, (_, n) => ({ event: event(n), published: false }));
  const batch: OutboxBatch = async (limit, publish) => {
    const taken = rows.filter((r) => !r.published).slice(0, limit);
    for (const row of taken) await publish(row.event);
    for (const row of taken) row.published = true;
    return taken.length;
  };
  return { rows, batch, unpublished: () => rows.filter((r) => !r.published).length };
}

/** Everything that reached the stream (group `t`) and the live channel. */
async function watch(bus: EventBus) {
  const stream: string[] = [];
  const live: string[] = [];
  await bus.consume(DOMAIN_EVENTS_STREAM, 't', 'c', (m) => void stream.push((m as DomainEvent).id), { blockMs: 100 });
  await bus.subscribe(DOMAIN_EVENTS_CHANNEL, (m) => void live.push((m as DomainEvent).id));
  return { stream, live };
}

describe('outbox relay helpers', () => {
  const logger = createLogger('outbox-test', 'silent');
  let bus: InMemoryBus;
  beforeEach(() => {
    bus = new InMemoryBus();
  });
  afterEach(() => bus.dispose());

  it('relays batch after batch until the outbox is empty, to the stream and the live channel', async () => {
    const seen = await watch(bus);
    const outbox = memoryOutbox(25);
    expect(await relayOutbox({ bus, batch: outbox.batch, limit: 10 })).toBe(25);
    expect(outbox.unpublished()).toBe(0);
    const ids = outbox.rows.map((r) => r.event.id);
    await eventually(() => seen.stream.length === 25 && seen.live.length === 25, 5000, 'every event twice');
    expect(seen.stream).toEqual(ids);
    expect(seen.live).toEqual(ids);
  });

  it('fails the batch when the stream refuses an event, and only logs a failed live publish', async () => {
    const refusing = Object.assign(Object.create(bus) as EventBus, { append: () => Promise.reject(new Error('down')) });
    const outbox = memoryOutbox(3);
    await expect(relayOutbox({ bus: refusing, batch: outbox.batch })).rejects.toThrow('down');
    expect(outbox.unpublished()).toBe(3);
    const warnings: unknown[] = [];
    const quiet = { ...logger, warn: (obj: unknown) => void warnings.push(obj) } as unknown as typeof logger;
    const noLive = Object.assign(Object.create(bus) as EventBus, { publish: () => Promise.reject(new Error('no pubsub')) });
    await emitDomainEvent(noLive, event(9), quiet);
    expect(bus.streamLength(DOMAIN_EVENTS_STREAM)).toBe(1);
    expect(warnings).toHaveLength(1);
  });

  it('OutboxRelay: a run asked for during a run runs once more after it; failures are logged and retried on the timer', async () => {
    const seen = await watch(bus);
    const outbox = memoryOutbox(2);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    let fail = true;
    const batch: OutboxBatch = async (limit, publish) => {
      calls += 1;
      if (calls === 1) await gate;
      if (calls === 2 && fail) {
        fail = false;
        throw new Error('database down');
      }
      return outbox.batch(limit, publish);
    };
    const relay = new OutboxRelay({ name: 'test', bus, batch, logger, intervalMs: 50 });
    const first = relay.runNow();
    outbox.rows.push({ event: event(100), published: false });
    const second = relay.runNow();
    expect(relay.runNow()).toBe(second); // joined, not a third run
    release();
    expect(await first).toBe(3);
    expect(await second).toBe(0); // the failed pass: logged, 0
    relay.start();
    outbox.rows.push({ event: event(101), published: false });
    await eventually(() => outbox.unpublished() === 0, 5000, 'the timer relaying the rest');
    await relay.stop();
    expect(await relay.runNow()).toBe(0);
    await eventually(() => seen.stream.length === 4, 5000, 'four events in the stream');
  });
});

/** The raw SQL a Prisma transaction offers, over PGlite (the kit has no generated client of its own). */
function sqlOf(db: PGlite | Transaction): OutboxSql {
  return {
    $queryRawUnsafe: async <T>(query: string, ...values: unknown[]) => (await db.query(query, values)).rows as T,
    $executeRawUnsafe: async (query: string, ...values: unknown[]) => (await db.query(query, values)).affectedRows ?? 0,
  };
}

interface TestRow {
  id: string;
  occurredAt: Date;
  payload: { n: number };
  publishedAt: Date | null;
}

describe('publishOutboxBatch (an outbox table on PGlite)', () => {
  let db: PGlite;
  const transaction = <T>(work: (tx: OutboxSql) => Promise<T>): Promise<T> => db.transaction((tx) => work(sqlOf(tx)));
  const table: OutboxTable<TestRow, number> = { table: 'TestEvent', toEvent: (row) => row.payload.n };
  const unpublished = async () =>
    (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM "TestEvent" WHERE "publishedAt" IS NULL')).rows[0]!.n;

  beforeAll(async () => {
    db = await PGlite.create('memory://');
    await db.exec(`CREATE TABLE "TestEvent" ("id" TEXT PRIMARY KEY, "occurredAt" TIMESTAMP(3) NOT NULL, "payload" JSONB NOT NULL,
      "publishedAt" TIMESTAMP(3));
      CREATE TABLE "SerialEvent" ("id" BIGSERIAL PRIMARY KEY, "n" INT NOT NULL, "publishedAt" TIMESTAMP(3))`);
  });
  afterAll(() => db.close());
  beforeEach(async () => {
    await db.exec('DELETE FROM "TestEvent"; DELETE FROM "SerialEvent"');
    // Inserted out of order: the batch goes by occurredAt, then id.
    for (const n of [3, 1, 4, 2, 5]) {
      await db.query('INSERT INTO "TestEvent" VALUES ($1, $2, $3, NULL)', [`E:${n}`, `2026-11-23T10:00:0${n}.000Z`, JSON.stringify({ n })]);
    }
  });

  it('sends up to `limit` rows oldest first and marks exactly those, at the time given', async () => {
    const sent: number[] = [];
    const at = new Date('2026-11-24T12:00:00.000Z');
    expect(await publishOutboxBatch(transaction, table, 3, async (n) => void sent.push(n), at)).toBe(3);
    expect(sent).toEqual([1, 2, 3]);
    const rows = (await db.query<TestRow>('SELECT * FROM "TestEvent" ORDER BY "id"')).rows;
    expect(rows.map((r) => [r.id, r.publishedAt?.toISOString() ?? null])).toEqual([
      ['E:1', at.toISOString()],
      ['E:2', at.toISOString()],
      ['E:3', at.toISOString()],
      ['E:4', null],
      ['E:5', null],
    ]);
    // relayOutbox runs batches until one comes back short; the emit decides where an event goes.
    const emitted: number[] = [];
    const bus = new InMemoryBus();
    const batch: OutboxBatch<number> = (limit, publish) => publishOutboxBatch(transaction, table, limit, publish, at);
    expect(await relayOutbox<number>({ bus, batch, limit: 1, emit: async (_bus, n) => void emitted.push(n) })).toBe(2);
    expect(emitted).toEqual([4, 5]);
    expect(await unpublished()).toBe(0);
    expect(await publishOutboxBatch(transaction, table, 10, () => Promise.reject(new Error('never called')), at)).toBe(0);
    await bus.dispose();
  });

  it('marks nothing when a send fails: the whole batch goes out again on a later pass', async () => {
    const sent: number[] = [];
    const failOn3 = async (n: number) => {
      if (n === 3) throw new Error('bus down');
      sent.push(n);
    };
    await expect(publishOutboxBatch(transaction, table, 10, failOn3, new Date())).rejects.toThrow('bus down');
    expect(sent).toEqual([1, 2]);
    expect(await unpublished()).toBe(5);
    sent.length = 0;
    expect(await publishOutboxBatch(transaction, table, 10, async (n) => void sent.push(n), new Date())).toBe(5);
    expect(sent).toEqual([1, 2, 3, 4, 5]);
  });

  it('takes another order and any id type (a BIGSERIAL in insertion order), and refuses a name that is not an identifier', async () => {
    for (const n of [10, 20, 30]) await db.query('INSERT INTO "SerialEvent" ("n") VALUES ($1)', [n]);
    const serial: OutboxTable<{ id: bigint; n: number }, number> = { table: 'SerialEvent', orderBy: ['id'], toEvent: (row) => row.n };
    const sent: number[] = [];
    expect(await publishOutboxBatch(transaction, serial, 10, async (n) => void sent.push(n), new Date())).toBe(3);
    expect(sent).toEqual([10, 20, 30]);
    const bad = { ...table, table: 'TestEvent"; DROP TABLE "TestEvent' };
    await expect(publishOutboxBatch(transaction, bad, 10, () => Promise.resolve(), new Date())).rejects.toThrow(
      /not a plain SQL identifier/,
    );
    expect(await unpublished()).toBe(5);
  });
});

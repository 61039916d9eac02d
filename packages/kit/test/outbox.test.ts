import {
  createLogger,
  DOMAIN_EVENTS_CHANNEL,
  DOMAIN_EVENTS_STREAM,
  emitDomainEvent,
  InMemoryBus,
  OutboxRelay,
  relayOutbox,
  type DomainEvent,
  type EventBus,
  type OutboxBatch,
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

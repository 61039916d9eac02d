import { CALLER_HEADER, callerCredential, CLOCK_CHANNEL, InMemoryBus, ServiceClock } from '@shelfwise/kit';
import { eventually, graphql } from '@shelfwise/testkit';
import { start, type UsersHandle } from '../src/server.js';

const adminHeaders = () => ({ [CALLER_HEADER]: callerCredential({ userId: '00000000-0000-4000-8000-000000000001', role: 'ADMIN' }) });

describe('advanceClock (users subgraph)', () => {
  let off: UsersHandle;
  let on: UsersHandle;
  const bus = new InMemoryBus();
  const clock = new ServiceClock(true);
  const announced: unknown[] = [];

  beforeAll(async () => {
    off = await start();
    on = await start({ clock, bus });
    await bus.subscribe(CLOCK_CHANNEL, (message) => announced.push(message));
  });
  afterAll(async () => {
    await off?.stop();
    await on?.stop();
    await bus.dispose();
  });

  it('is refused, with what to do, when the test clock is off', async () => {
    const res = await graphql(off.url, 'mutation { advanceClock(seconds: 60) }', {}, adminHeaders());
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(res.errors?.[0]?.message).toMatch(/SHELFWISE_TEST_CLOCK=1/);
  });

  it('moves the clock and announces the new offset on the bus for services in other processes', async () => {
    const res = await graphql<{ advanceClock: string }>(on.url, 'mutation { advanceClock(seconds: 3600) }', {}, adminHeaders());
    expect(res.errors).toBeUndefined();
    expect(clock.offset).toBe(3_600_000);
    await eventually(() => announced.length === 1, 5000, 'the clock announcement');
    expect(announced).toEqual([{ offsetMs: 3_600_000 }]);
  });
});

import { ServiceClock } from '@shelfwise/kit';

/** How far `clock` runs ahead of the wall clock right now, in ms (tolerates the few ms between the reads). */
function lead(clock: ServiceClock): number {
  const before = Date.now();
  const now = clock.now().getTime();
  const after = Date.now();
  expect(now).toBeGreaterThanOrEqual(before + clock.offset);
  expect(now).toBeLessThanOrEqual(after + clock.offset);
  return clock.offset;
}

describe('ServiceClock', () => {
  it('follows the wall clock with no offset by default', () => {
    const clock = new ServiceClock();
    expect(clock.isTestClock).toBe(false);
    expect(lead(clock)).toBe(0);
  });

  it('refuses to move unless it is the test clock', () => {
    const clock = new ServiceClock(false);
    expect(() => clock.advance(60)).toThrow('The clock can only be moved when SHELFWISE_TEST_CLOCK=1.');
    expect(clock.offset).toBe(0);
  });

  it('moves the test clock forward by whole seconds and returns the new time', () => {
    const clock = new ServiceClock(true);
    expect(clock.isTestClock).toBe(true);
    const before = Date.now();
    const moved = clock.advance(86_400);
    expect(clock.offset).toBe(86_400_000);
    expect(moved.getTime()).toBeGreaterThanOrEqual(before + 86_400_000);
    expect(moved.getTime()).toBeLessThanOrEqual(Date.now() + 86_400_000);
    clock.advance(0);
    clock.advance(30);
    expect(clock.offset).toBe(86_430_000);
    lead(clock);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('never moves by %p', (seconds) => {
    const clock = new ServiceClock(true);
    clock.advance(10);
    expect(() => clock.advance(seconds)).toThrow('The clock only moves forward by a whole number of seconds.');
    expect(clock.offset).toBe(10_000);
  });

  it('syncOffset adopts a larger offset announced by another service, never a smaller one', () => {
    const clock = new ServiceClock(true);
    clock.syncOffset(5_000);
    expect(clock.offset).toBe(5_000);
    clock.syncOffset(2_000);
    expect(clock.offset).toBe(5_000);
    clock.syncOffset(-1_000);
    expect(clock.offset).toBe(5_000);
    clock.advance(10);
    expect(clock.offset).toBe(15_000);
    clock.syncOffset(15_000);
    expect(clock.offset).toBe(15_000);
  });

  it('syncOffset never moves a production clock', () => {
    const clock = new ServiceClock(false);
    clock.syncOffset(60_000);
    expect(clock.offset).toBe(0);
  });
});

describe('followClock', () => {
  it('moves a test clock when another process announces its offset, and ignores garbage', async () => {
    const { CLOCK_CHANNEL, followClock, InMemoryBus, ServiceClock } = await import('@shelfwise/kit');
    const bus = new InMemoryBus();
    const here = new ServiceClock(true);
    const off = new ServiceClock(false);
    const stop = await followClock(here, bus);
    await followClock(off, bus);
    await bus.publish(CLOCK_CHANNEL, { offsetMs: 'soon' });
    await bus.publish(CLOCK_CHANNEL, { offsetMs: 3_600_000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(here.offset).toBe(3_600_000);
    expect(off.offset).toBe(0);
    // Never backwards.
    await bus.publish(CLOCK_CHANNEL, { offsetMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(here.offset).toBe(3_600_000);
    await stop();
    await bus.dispose();
  });
});

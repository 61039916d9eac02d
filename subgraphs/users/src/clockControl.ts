import { appError, badInput, CLOCK_CHANNEL, ErrorCode, type EventBus, type ServiceClock } from '@shelfwise/kit';

/** Ten years: far enough for any due date, fine cap or expiry; a bigger jump is a typo. */
export const MAX_CLOCK_STEP_SECONDS = 3650 * 86_400;

/**
 * The test clock's one control: moves this process's clock and announces the new offset on the bus, so
 * services in other processes follow (kit `followClock`). Refused unless SHELFWISE_TEST_CLOCK=1.
 */
export async function advanceClock(clock: ServiceClock, bus: EventBus | undefined, seconds: number): Promise<Date> {
  if (!clock.isTestClock) {
    throw appError(
      ErrorCode.FORBIDDEN,
      'The test clock is off. Start the platform with SHELFWISE_TEST_CLOCK=1 to move time (never in production).',
    );
  }
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_CLOCK_STEP_SECONDS) {
    throw badInput(`"seconds" must be a whole number from 1 to ${MAX_CLOCK_STEP_SECONDS} (ten years).`);
  }
  const now = clock.advance(seconds);
  await bus?.publish(CLOCK_CHANNEL, { offsetMs: clock.offset });
  return now;
}

import { RedisBus } from '@shelfwise/kit';
import { freshRedisPrefix, hasRedis, TEST_REDIS_URL } from '@shelfwise/testkit';
import { describeHoldsAcrossRestart } from './holdsRestartKit.js';

const redisOk = await hasRedis();
let bus: RedisBus | undefined;
const shared = () => (bus ??= new RedisBus({ url: TEST_REDIS_URL, prefix: freshRedisPrefix('holds-restart') }));
describeHoldsAcrossRestart('hold queue across a reservations restart (Redis)', redisOk ? describe : describe.skip, shared, async () => {
  await bus?.dispose();
});

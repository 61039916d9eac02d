import { InMemoryBus } from '@shelfwise/kit';
import { describeHoldsAcrossRestart } from './holdsRestartKit.js';

const bus = new InMemoryBus();
describeHoldsAcrossRestart(
  'hold queue across a reservations restart (in-process bus)',
  describe,
  () => bus,
  () => bus.dispose(),
);

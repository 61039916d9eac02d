import { configureCallerTrust, followClock, serviceOptionsFromEnv, stopOnSignals } from '@shelfwise/kit';
import { start } from './server.js';

// On its own, this service answers only the router whose public key it is given.
configureCallerTrust('subgraph');
const options = serviceOptionsFromEnv('books');
// A test clock moved in another process (advanceClock) moves this one too.
await followClock(options.clock, options.bus);
const handle = await start(options);
stopOnSignals(async () => {
  await handle.stop();
  await options.bus.dispose();
}, options.logger);

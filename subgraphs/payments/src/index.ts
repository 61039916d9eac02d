import { configureCallerTrust, serviceOptionsFromEnv, stopOnSignals } from '@shelfwise/kit';
import { start } from './server.js';

// On its own, this service answers only the router whose public key it is given.
configureCallerTrust('subgraph');
const options = serviceOptionsFromEnv('payments');
const handle = await start(options);
stopOnSignals(async () => {
  await handle.stop();
  await options.bus.dispose();
}, options.logger);

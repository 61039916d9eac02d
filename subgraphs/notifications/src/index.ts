import { serviceOptionsFromEnv, stopOnSignals } from '@shelfwise/kit';
import { start } from './server.js';

const options = serviceOptionsFromEnv('notifications');
const handle = await start(options);
stopOnSignals(async () => {
  await handle.stop();
  await options.bus.dispose();
}, options.logger);

import { followClock } from './clock.js';
import { serviceOptionsFromEnv, type ServiceOptions } from './runtime.js';
import { stopOnSignals } from './server.js';
import type { SubgraphName } from './services.js';
import { configureCallerTrust, configureServiceTrust } from './trust.js';

/**
 * The whole of a subgraph's src/index.ts when it runs on its own: trust only the router whose key it is
 * given, take its options from the environment, follow test-clock moves made in other processes, start,
 * and stop cleanly (then close the bus) on SIGINT/SIGTERM.
 */
export async function runSubgraph<THandle extends { stop(): Promise<void> }>(
  name: SubgraphName,
  start: (options: ServiceOptions) => Promise<THandle>,
): Promise<THandle> {
  configureCallerTrust('subgraph');
  configureServiceTrust();
  const options = serviceOptionsFromEnv(name);
  await followClock(options.clock, options.bus);
  const handle = await start(options);
  stopOnSignals(async () => {
    await handle.stop();
    await options.bus.dispose();
  }, options.logger);
  return handle;
}

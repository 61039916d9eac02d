import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBus, type EventBus } from './bus.js';
import { ServiceClock } from './clock.js';
import { getEnvBool, getEnvNum, getEnvOptional, getEnvStr } from './env.js';
import { createLogger, type Logger } from './logger.js';
import { subgraphDirectoryFromEnv, type SubgraphDirectory } from './serviceClient.js';
import { subgraphInfo, type SubgraphName } from './services.js';

/** The repository root (packages/kit/src → ../../..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** Absolute path of a file or folder in the repository. */
export function repoPath(...segments: string[]): string {
  return path.join(REPO_ROOT, ...segments);
}

/** Where a subgraph's committed migrations live. */
export function migrationsDirFor(name: SubgraphName): string {
  return repoPath('prisma', name, 'migrations');
}

/**
 * What every subgraph's `start()` accepts. Everything is optional: unset means the embedded default
 * (PGlite in memory unless `dataDir` is given, the in-process bus, the wall clock).
 */
export interface ServiceOptions {
  port?: number;
  host?: string;
  /** PostgreSQL server URL; the service uses its own database there. */
  databaseUrl?: string;
  /** Database name on that server (default shelfwise_<service>). */
  databaseName?: string;
  /** PGlite data folder (embedded default); unset with no databaseUrl means in memory. */
  dataDir?: string;
  /** Connections in the service's PostgreSQL pool (default 10, see db.ts). */
  poolSize?: number;
  bus?: EventBus;
  clock?: ServiceClock;
  logger?: Logger;
  /** Where the other subgraphs answer internal calls (default: SHELFWISE_<NAME>_URL or the local ports). */
  services?: SubgraphDirectory;
}

/**
 * The PostgreSQL pool size of a subgraph from SHELFWISE_DB_POOL_SIZE (1–1000), else unset (db.ts's
 * default of 10). Each service process reads its own environment, so separately deployed services (e.g.
 * docker-compose) size their pools one by one. A pool no larger than the database's CPUs serves a
 * CPU-bound load (catalogue search) with less contention than one connection per concurrent request
 * (docs/benchmarks.md, "Search").
 */
export function poolSizeFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (getEnvOptional('SHELFWISE_DB_POOL_SIZE', env) === undefined) return undefined;
  const size = getEnvNum('SHELFWISE_DB_POOL_SIZE', undefined, env);
  if (size < 1 || size > 1000) throw new Error(`Environment variable SHELFWISE_DB_POOL_SIZE must be between 1 and 1000, got ${size}.`);
  return size;
}

/**
 * A subgraph's options from the environment (used by src/index.ts and the embedded launcher). The
 * launcher passes its one `shared` bus and clock, so no subgraph opens Redis connections of its own.
 */
export function serviceOptionsFromEnv(
  name: SubgraphName,
  env: NodeJS.ProcessEnv = process.env,
  shared: { bus?: EventBus; clock?: ServiceClock } = {},
): Required<Pick<ServiceOptions, 'port' | 'host' | 'bus' | 'clock' | 'logger' | 'services'>> & ServiceOptions {
  const logger = createLogger(name);
  const databaseUrl = getEnvOptional('DATABASE_URL', env);
  const poolSize = databaseUrl ? poolSizeFromEnv(env) : undefined;
  return {
    port: getEnvNum(`SHELFWISE_${name.toUpperCase()}_PORT`, subgraphInfo(name).port, env),
    host: getEnvStr('SHELFWISE_BIND_HOST', '127.0.0.1', env),
    databaseUrl,
    ...(poolSize !== undefined && { poolSize }),
    dataDir: databaseUrl ? undefined : path.join(getEnvStr('SHELFWISE_DATA_DIR', repoPath('.data'), env), name),
    bus:
      shared.bus ??
      createBus({ redisUrl: getEnvOptional('REDIS_URL', env), prefix: getEnvStr('SHELFWISE_REDIS_PREFIX', 'shelfwise', env), logger }),
    clock: shared.clock ?? new ServiceClock(getEnvBool('SHELFWISE_TEST_CLOCK', false, env)),
    logger,
    services: subgraphDirectoryFromEnv(env),
  };
}

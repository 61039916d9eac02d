import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { CALLER_HEADER, callerCredential, dropDatabase, ServiceClock } from '@shelfwise/kit';

export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

/**
 * POSTs one GraphQL operation and returns the parsed body (whatever the HTTP status). Requests carry an
 * anonymous router credential unless `headers` brings its own, so tests can call a subgraph directly as
 * the router would (the router replaces whatever credential a client sends).
 */
export async function graphql<T = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'apollo-require-preflight': 'true',
      [CALLER_HEADER]: callerCredential(null),
      ...headers,
    },
    body: JSON.stringify({ query, variables }),
  });
  return (await res.json()) as GraphQLResponse<T>;
}

/** Where the real services are expected (CI's local Postgres and Redis unless overridden). */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** In CI (CI=true) or with SHELFWISE_REQUIRE_SERVICES=1 a missing service fails the run instead of skipping. */
const REQUIRED = process.env.CI === 'true' || process.env.SHELFWISE_REQUIRE_SERVICES === '1';

async function probePostgres(): Promise<string | null> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function probeRedis(): Promise<string | null> {
  const redis = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 2000, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    redis.disconnect();
  }
}

async function availability(name: string, probe: () => Promise<string | null>): Promise<boolean> {
  const problem = await probe();
  if (problem === null) return true;
  if (REQUIRED) throw new Error(`${name} is required here (CI) but does not answer: ${problem}`);
  console.warn(`[skip] ${name} is not reachable (${problem}); its suites are skipped on this machine.`);
  return false;
}

let postgresProbe: Promise<boolean> | undefined;
let redisProbe: Promise<boolean> | undefined;

/** True when the test Postgres answers; false (with a one-line reason) on a laptop without it; throws in CI. */
export function hasPostgres(): Promise<boolean> {
  postgresProbe ??= availability('PostgreSQL', probePostgres);
  return postgresProbe;
}

/** True when the test Redis answers; false (with a one-line reason) on a laptop without it; throws in CI. */
export function hasRedis(): Promise<boolean> {
  redisProbe ??= availability('Redis', probeRedis);
  return redisProbe;
}

/** A database name no other test uses; drop it with {@link dropTestDatabase}. */
export function freshDatabaseName(prefix: string): string {
  return `test_${prefix.replace(/[^a-z0-9_]/g, '_')}_${randomBytes(5).toString('hex')}`;
}

export async function dropTestDatabase(name: string): Promise<void> {
  await dropDatabase(TEST_DATABASE_URL, name);
}

/** A Redis channel prefix no other test uses. */
export function freshRedisPrefix(prefix: string): string {
  return `test:${prefix}:${randomBytes(5).toString('hex')}`;
}

/** Waits until `check` returns true, polling; throws after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A test clock that moves only when advanced: arithmetic on elapsed time (a bucket's refill, a Retry-After)
 * comes out exact however slow the machine is, where the wall clock would drift a second on a loaded one.
 */
export class FrozenClock extends ServiceClock {
  private readonly base = Date.now();

  constructor() {
    super(true);
  }

  override now(): Date {
    return new Date(this.base + this.offset);
  }
}

import { defaultSubgraphUrl, ROUTER_PORT, serviceOptionsFromEnv, SUBGRAPH_NAMES, SUBGRAPHS, subgraphUrlEnvVar } from '@shelfwise/kit';
import { namesOf, readEnvExample, scanEnvReads } from './env-reads.js';

/**
 * Variables the code reads that are NOT configuration of the platform, so .env.example leaves them out.
 * Add one here only with the reason.
 */
const TEST_ONLY = new Map<string, string>([
  ['TEST_DATABASE_URL', 'testkit: the PostgreSQL server tests create their databases on'],
  ['TEST_REDIS_URL', 'testkit: the Redis tests use'],
  ['CI', 'testkit: in CI a missing Postgres/Redis fails the run instead of skipping suites'],
  ['SHELFWISE_REQUIRE_SERVICES', 'testkit: the same as CI=true on a developer machine'],
  ['JEST_WORKER_ID', 'set by jest; the logger is silent under jest'],
  ['MIGRATE_ROOT', "scripts/migrate.ts: the migrate tool's tests point it at a temporary tree"],
]);

/** Listed in .env.example although our code never reads them: libraries we use do. */
const READ_BY_LIBRARIES = new Map<string, string>([
  ['APOLLO_TELEMETRY_DISABLED', '@apollo/gateway and @apollo/server: no usage reporting or cloud probes'],
]);

const scan = scanEnvReads();
const read = namesOf(scan.reads);
const entries = readEnvExample();
const listed = new Map(entries.map((e) => [e.name, e]));

describe('.env.example', () => {
  it('the scan sees the code (sanity check of the scanner itself)', () => {
    expect(scan.files.length).toBeGreaterThan(20);
    for (const name of ['DATABASE_URL', 'REDIS_URL', 'LOG_LEVEL', 'SHELFWISE_BIND_HOST', 'SHELFWISE_BOOKS_PORT'])
      expect(read).toContain(name);
  });

  it('every environment variable the code reads is listed (test-only ones excepted)', () => {
    const missing = [...read]
      .filter((name) => !listed.has(name) && !TEST_ONLY.has(name))
      .sort()
      .map(
        (name) =>
          `${name} (read at ${scan.reads
            .filter((r) => r.name === name)
            .map((r) => r.where)
            .join(', ')})`,
      );
    expect(missing).toEqual([]);
  });

  it('every read names its variable in a way the scan understands', () => {
    // A read through a variable (getEnvStr(key), process.env[key]) could hide an undocumented variable.
    // Name the variable literally, or teach test/env-reads.ts the helper that builds the name.
    expect(scan.unresolved).toEqual([]);
  });

  it('lists nothing stale: each variable is read by our code or by a library we use', () => {
    const stale = entries.map((e) => e.name).filter((name) => !read.has(name) && !READ_BY_LIBRARIES.has(name));
    expect(stale).toEqual([]);
  });

  it('keeps test-only variables out, and every exception is still read somewhere', () => {
    for (const name of TEST_ONLY.keys()) {
      expect(listed.has(name)).toBe(false);
      expect([name, read.has(name)]).toEqual([name, true]);
    }
  });

  it('lists each variable once, with a comment that states its default', () => {
    const names = entries.map((e) => e.name);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
    const undocumented = entries
      .filter((e) => e.comment.length === 0 || !/default/i.test(e.comment.join(' ')))
      .map((e) => `${e.name} (line ${e.line})`);
    expect(undocumented).toEqual([]);
  });

  it('disables Apollo telemetry', () => {
    expect(listed.get('APOLLO_TELEMETRY_DISABLED')).toMatchObject({ value: 'true', commentedOut: false });
  });

  it("agrees with the kit's ports and URLs", () => {
    expect(listed.get('PORT')?.value).toBe(String(ROUTER_PORT));
    for (const { name, port } of SUBGRAPHS) {
      expect([name, listed.get(`SHELFWISE_${name.toUpperCase()}_PORT`)?.value]).toEqual([name, String(port)]);
      expect([name, listed.get(subgraphUrlEnvVar(name))?.value]).toEqual([name, defaultSubgraphUrl(name)]);
    }
  });

  it('changes nothing when copied to .env as it is: a service reads the same options as with no environment', async () => {
    const env = Object.fromEntries(entries.filter((e) => !e.commentedOut).map((e) => [e.name, e.value]));
    for (const name of SUBGRAPH_NAMES) {
      const fromExample = serviceOptionsFromEnv(name, env);
      const fromNothing = serviceOptionsFromEnv(name, {});
      const pick = (o: typeof fromExample) => ({
        port: o.port,
        host: o.host,
        databaseUrl: o.databaseUrl,
        dataDir: o.dataDir,
        testClock: o.clock.isTestClock,
        bus: o.bus.constructor.name,
      });
      expect(pick(fromExample)).toEqual(pick(fromNothing));
      await Promise.all([fromExample.bus.dispose(), fromNothing.bus.dispose()]);
    }
  });
});

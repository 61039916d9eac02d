import { randomBytes, randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { freshRedisPrefix, hasRedis, TEST_REDIS_URL } from '@shelfwise/testkit';
import { GraphQLError } from 'graphql';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { Logger } from '../src/logger.js';
import {
  InMemorySessionStore,
  REFRESH_TOKEN_TTL_SECONDS,
  RedisSessionStore,
  SESSION_INVALID_MESSAGE,
  type Session,
  type SessionStore,
} from '../src/auth/sessions.js';

const redisOk = await hasRedis();
const describeRedis = redisOk ? describe : describe.skip;

const T0 = new Date('2030-05-06T07:08:09.000Z');
const TTL_MS = REFRESH_TOKEN_TTL_SECONDS * 1000;
const at = (ms: number) => new Date(T0.getTime() + ms);
const DAY = 24 * 3600 * 1000;
const ALICE = randomUUID();
const BOB = randomUUID();

/** A pino logger whose lines land in `lines`. */
function capturingLogger(): { logger: Logger; lines: { level: number; msg: string; sessionId?: string }[] } {
  const lines: { level: number; msg: string; sessionId?: string }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

async function expectInvalid(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(GraphQLError);
  expect((error as GraphQLError).message).toBe(SESSION_INVALID_MESSAGE);
  expect((error as GraphQLError).extensions).toEqual({ code: 'UNAUTHENTICATED' });
}

type StoreFactory = (logger: Logger) => SessionStore;

/** The behaviour every SessionStore must have, in memory and on Redis alike. */
function sessionStoreContract(name: string, factory: StoreFactory) {
  describe(`SessionStore contract: ${name}`, () => {
    let store: SessionStore;
    let log: ReturnType<typeof capturingLogger>;

    beforeEach(() => {
      log = capturingLogger();
      store = factory(log.logger);
    });
    afterEach(() => store.dispose());

    it('creates a session that get() returns, with an opaque 32-byte refresh token', async () => {
      const { session, refreshToken } = await store.create({ userId: ALICE, role: 'LIBRARIAN' }, T0);
      expect(session).toEqual<Session>({ id: session.id, userId: ALICE, role: 'LIBRARIAN', createdAt: T0, expiresAt: at(TTL_MS) });
      expect(session.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(refreshToken, 'base64url')).toHaveLength(32);
      await expect(store.get(session.id, at(1000))).resolves.toEqual(session);
      const other = await store.create({ userId: ALICE, role: 'LIBRARIAN' }, T0);
      expect(other.session.id).not.toBe(session.id);
      expect(other.refreshToken).not.toBe(refreshToken);
    });

    it('answers null for an unknown or malformed session id', async () => {
      await store.create({ userId: ALICE, role: 'PATRON' }, T0);
      await expect(store.get(randomUUID(), T0)).resolves.toBeNull();
      await expect(store.get('not-a-session', T0)).resolves.toBeNull();
      await expect(store.get('', T0)).resolves.toBeNull();
    });

    it('refuses to create a session without a user or with an unknown role', async () => {
      await expect(store.create({ userId: '', role: 'PATRON' }, T0)).rejects.toThrow(/userId/);
      await expect(store.create({ userId: ALICE, role: 'ROOT' as 'ADMIN' }, T0)).rejects.toThrow(/valid role/);
    });

    it('rotates: a new token for the same session, whose lifetime starts again', async () => {
      const created = await store.create({ userId: ALICE, role: 'PATRON' }, T0);
      const first = await store.rotate(created.refreshToken, at(DAY));
      expect(first.refreshToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(first.refreshToken).not.toBe(created.refreshToken);
      expect(first.session).toEqual({ ...created.session, expiresAt: at(DAY + TTL_MS) });
      const second = await store.rotate(first.refreshToken, at(2 * DAY));
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(second.session).toEqual({ ...created.session, expiresAt: at(2 * DAY + TTL_MS) });
      await expect(store.get(created.session.id, at(2 * DAY))).resolves.toEqual(second.session);
    });

    it('treats a used token presented again as theft: the whole session ends, the newest token included', async () => {
      const created = await store.create({ userId: ALICE, role: 'PATRON' }, T0);
      const unrelated = await store.create({ userId: ALICE, role: 'PATRON' }, T0);
      const rotated = await store.rotate(created.refreshToken, at(1000));
      await expectInvalid(store.rotate(created.refreshToken, at(2000)));
      await expect(store.get(created.session.id, at(2000))).resolves.toBeNull();
      await expectInvalid(store.rotate(rotated.refreshToken, at(3000)));
      await expect(store.listForUser(ALICE, at(3000))).resolves.toEqual([unrelated.session]);
      // the user's other session is untouched
      await expect(store.rotate(unrelated.refreshToken, at(4000))).resolves.toMatchObject({ session: { id: unrelated.session.id } });
      expect(log.lines.filter((l) => l.msg.includes('used refresh token')).map((l) => l.sessionId)).toEqual([created.session.id]);
    });

    it('lets exactly one of several concurrent rotations of one token through, and then ends the session', async () => {
      const created = await store.create({ userId: BOB, role: 'PATRON' }, T0);
      const results = await Promise.allSettled(Array.from({ length: 5 }, () => store.rotate(created.refreshToken, at(1000))));
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r) => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(4);
      for (const r of lost) expect((r.reason as GraphQLError).extensions.code).toBe('UNAUTHENTICATED');
      await expect(store.get(created.session.id, at(2000))).resolves.toBeNull();
      await expectInvalid(store.rotate(won[0]!.value.refreshToken, at(2000)));
    });

    it('ends a session REFRESH_TOKEN_TTL_SECONDS after its last rotation, by the given clock', async () => {
      const created = await store.create({ userId: ALICE, role: 'PATRON' }, T0);
      await expect(store.get(created.session.id, at(TTL_MS - 1))).resolves.toEqual(created.session);
      await expect(store.get(created.session.id, at(TTL_MS))).resolves.toBeNull();
      await expect(store.listForUser(ALICE, at(TTL_MS))).resolves.toEqual([]);
      await expectInvalid(store.rotate(created.refreshToken, at(TTL_MS)));

      // rotated on day 29, the session outlives the first 30 days
      const kept = await store.create({ userId: BOB, role: 'PATRON' }, T0);
      const rotated = await store.rotate(kept.refreshToken, at(29 * DAY));
      await expect(store.get(kept.session.id, at(31 * DAY))).resolves.toEqual(rotated.session);
      await expect(store.get(kept.session.id, at(29 * DAY + TTL_MS))).resolves.toBeNull();
    });

    it('refuses unknown and malformed refresh tokens', async () => {
      await store.create({ userId: ALICE, role: 'PATRON' }, T0);
      for (const token of [
        '',
        'x',
        randomBytes(32).toString('base64url'),
        randomBytes(31).toString('base64url'),
        `${'A'.repeat(42)}=`,
        ' '.repeat(43),
      ]) {
        await expectInvalid(store.rotate(token, T0));
      }
      await expectInvalid(store.rotate(undefined as unknown as string, T0));
    });

    it('revokes one session: get() is null and its token is refused; others live on', async () => {
      const a = await store.create({ userId: ALICE, role: 'PATRON' }, T0);
      const b = await store.create({ userId: ALICE, role: 'PATRON' }, T0);
      await store.revoke(a.session.id);
      await expect(store.get(a.session.id, T0)).resolves.toBeNull();
      await expectInvalid(store.rotate(a.refreshToken, T0));
      await expect(store.get(b.session.id, T0)).resolves.toEqual(b.session);
      await expect(store.listForUser(ALICE, T0)).resolves.toEqual([b.session]);
      // unknown or already revoked: nothing happens
      await store.revoke(a.session.id);
      await store.revoke(randomUUID());
      await store.revoke('nonsense');
      await expect(store.get(b.session.id, T0)).resolves.toEqual(b.session);
    });

    it('revokes every session of one user and only that user', async () => {
      const a1 = await store.create({ userId: ALICE, role: 'PATRON' }, T0);
      const a2 = await store.create({ userId: ALICE, role: 'PATRON' }, at(1000));
      const b1 = await store.create({ userId: BOB, role: 'ADMIN' }, T0);
      await expect(store.revokeAllForUser(ALICE)).resolves.toBe(2);
      for (const s of [a1, a2]) {
        await expect(store.get(s.session.id, at(2000))).resolves.toBeNull();
        await expectInvalid(store.rotate(s.refreshToken, at(2000)));
      }
      await expect(store.listForUser(ALICE, at(2000))).resolves.toEqual([]);
      await expect(store.get(b1.session.id, at(2000))).resolves.toEqual(b1.session);
      await expect(store.rotate(b1.refreshToken, at(2000))).resolves.toMatchObject({ session: { id: b1.session.id, role: 'ADMIN' } });
      await expect(store.revokeAllForUser(ALICE)).resolves.toBe(0);
      await expect(store.revokeAllForUser(randomUUID())).resolves.toBe(0);
    });

    it("lists a user's live sessions, oldest first, and nobody else's", async () => {
      const newest = await store.create({ userId: ALICE, role: 'PATRON' }, at(3000));
      const oldest = await store.create({ userId: ALICE, role: 'PATRON' }, at(1000));
      const revoked = await store.create({ userId: ALICE, role: 'PATRON' }, at(2000));
      const middle = await store.create({ userId: ALICE, role: 'PATRON' }, at(2000));
      await store.create({ userId: BOB, role: 'PATRON' }, at(1500));
      await store.revoke(revoked.session.id);
      const listed = await store.listForUser(ALICE, at(5000));
      expect(listed).toEqual([oldest.session, middle.session, newest.session]);
      // a rotation shows the new expiry
      const rotated = await store.rotate(oldest.refreshToken, at(6000));
      expect((await store.listForUser(ALICE, at(6000)))[0]).toEqual(rotated.session);
      // the ones created at 1 s and 2 s are over at TTL + 2 s; the newest (3 s) is not
      expect(await store.listForUser(ALICE, at(TTL_MS + 2000))).toEqual([rotated.session, newest.session]);
      await expect(store.listForUser(randomUUID(), T0)).resolves.toEqual([]);
    });
  });
}

sessionStoreContract('InMemorySessionStore', (logger) => new InMemorySessionStore({ logger }));

describeRedis('RedisSessionStore against Redis', () => {
  let admin: Redis;
  const stores: SessionStore[] = [];
  beforeAll(() => {
    admin = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.dispose()));
  });
  afterAll(async () => {
    await admin.quit();
  });

  /** Every key under a prefix (SCAN, never KEYS). */
  async function keysUnder(prefix: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await admin.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    return found.sort();
  }

  sessionStoreContract(
    'RedisSessionStore',
    (logger) => new RedisSessionStore({ url: TEST_REDIS_URL, prefix: freshRedisPrefix('sessions'), logger }),
  );

  function newStore(prefix: string): RedisSessionStore {
    const store = new RedisSessionStore({ url: TEST_REDIS_URL, prefix });
    stores.push(store);
    return store;
  }

  it('keeps only the hash of refresh tokens, every key under <prefix>:session: with a TTL', async () => {
    const prefix = freshRedisPrefix('sessions');
    const store = newStore(prefix);
    const created = await store.create({ userId: ALICE, role: 'PATRON' }, T0);
    const rotated = await store.rotate(created.refreshToken, at(1000));
    const keys = await keysUnder(prefix);
    expect(keys).toHaveLength(4); // the session, its two token records, the user's index
    for (const key of keys) {
      expect(key.startsWith(`${prefix}:session:`)).toBe(true);
      const ttl = await admin.pttl(key);
      expect(ttl).toBeGreaterThan(TTL_MS - 60_000);
      expect(ttl).toBeLessThanOrEqual(TTL_MS);
      const type = await admin.type(key);
      const content =
        type === 'hash'
          ? JSON.stringify(await admin.hgetall(key))
          : type === 'zset'
            ? JSON.stringify(await admin.zrange(key, '0', '-1'))
            : ((await admin.get(key)) ?? '');
      for (const token of [created.refreshToken, rotated.refreshToken]) {
        expect(key).not.toContain(token);
        expect(content).not.toContain(token);
      }
    }
  });

  it('renews the TTLs on rotation, so Redis keeps a session that is in use', async () => {
    const prefix = freshRedisPrefix('sessions');
    const store = newStore(prefix);
    const created = await store.create({ userId: ALICE, role: 'PATRON' }, T0);
    // as if most of the 30 days had passed in real time
    for (const key of await keysUnder(prefix)) await admin.pexpire(key, 5000);
    const rotated = await store.rotate(created.refreshToken, at(1000));
    const keys = await keysUnder(prefix);
    expect(keys).toHaveLength(4);
    for (const key of keys) expect(await admin.pttl(key)).toBeGreaterThan(TTL_MS - 60_000);
    await expect(store.get(created.session.id, at(2000))).resolves.toEqual(rotated.session);
  });

  it('lets Redis forget a revoked session and an emptied user index', async () => {
    const prefix = freshRedisPrefix('sessions');
    const store = newStore(prefix);
    const a = await store.create({ userId: ALICE, role: 'PATRON' }, T0);
    await store.create({ userId: ALICE, role: 'PATRON' }, T0);
    await store.revoke(a.session.id);
    expect(await admin.exists(`${prefix}:session:id:${a.session.id}`)).toBe(0);
    await store.revokeAllForUser(ALICE);
    expect((await keysUnder(prefix)).filter((k) => !k.startsWith(`${prefix}:session:token:`))).toEqual([]);
  });

  it('is atomic across processes: two stores racing on one token, exactly one wins and the session ends', async () => {
    const prefix = freshRedisPrefix('sessions');
    const a = newStore(prefix);
    const b = newStore(prefix);
    const created = await a.create({ userId: BOB, role: 'PATRON' }, T0);
    await expect(b.get(created.session.id, T0)).resolves.toEqual(created.session);
    const results = await Promise.allSettled([a.rotate(created.refreshToken, at(1000)), b.rotate(created.refreshToken, at(1000))]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await expect(a.get(created.session.id, at(1000))).resolves.toBeNull();
    await expect(b.get(created.session.id, at(1000))).resolves.toBeNull();
  });

  it('keeps stores with different prefixes apart', async () => {
    const a = newStore(freshRedisPrefix('sessions-a'));
    const b = newStore(freshRedisPrefix('sessions-b'));
    const created = await a.create({ userId: ALICE, role: 'PATRON' }, T0);
    await expect(b.get(created.session.id, T0)).resolves.toBeNull();
    await expectInvalid(b.rotate(created.refreshToken, T0));
    await expect(b.listForUser(ALICE, T0)).resolves.toEqual([]);
    await expect(a.get(created.session.id, T0)).resolves.toEqual(created.session);
  });

  it('refuses an empty or spaced prefix', () => {
    expect(() => new RedisSessionStore({ url: TEST_REDIS_URL, prefix: '' })).toThrow(/non-empty key prefix/);
    expect(() => new RedisSessionStore({ url: TEST_REDIS_URL, prefix: 'my app' })).toThrow(/whitespace/);
  });
});

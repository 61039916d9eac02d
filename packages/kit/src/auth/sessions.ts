import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { unauthenticated } from '../errors.js';
import type { Logger } from '../logger.js';
import { isRole, type Role } from '../viewer.js';

/**
 * Sessions behind refresh tokens. A refresh token is 32 random bytes (base64url) handed to the client
 * once; the store keeps only its SHA-256. Every refresh rotates it, and a token presented a second time
 * means it was copied, so the whole session ends (theft detection). A session lives
 * {@link REFRESH_TOKEN_TTL_SECONDS} from its last rotation.
 */
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600;

/** The one answer to every refused refresh token (unknown, used, expired, revoked): it never says which. */
export const SESSION_INVALID_MESSAGE = 'Your session is not valid or has ended. Sign in again.';

export interface Session {
  id: string;
  userId: string;
  role: Role;
  createdAt: Date;
  expiresAt: Date;
}

export interface SessionStore {
  create(input: { userId: string; role: Role }, now: Date): Promise<{ session: Session; refreshToken: string }>;
  /**
   * Rotates: the presented token becomes used and a new one is returned. A token that was ALREADY used
   * (theft) revokes the whole session and throws UNAUTHENTICATED; unknown/expired/revoked → UNAUTHENTICATED.
   * Atomic: of two concurrent rotations of one token exactly one succeeds, and the other then counts as a
   * reuse and revokes the session.
   */
  rotate(refreshToken: string, now: Date): Promise<{ session: Session; refreshToken: string }>;
  /** The live session, or null when unknown, expired or revoked. */
  get(sessionId: string, now: Date): Promise<Session | null>;
  revoke(sessionId: string): Promise<void>;
  /** Ends every session of the user; returns how many there were. */
  revokeAllForUser(userId: string): Promise<number>;
  /** Live sessions of a user, oldest first. */
  listForUser(userId: string, now: Date): Promise<Session[]>;
  dispose(): Promise<void>;
}

const TTL_MS = REFRESH_TOKEN_TTL_SECONDS * 1000;
const REFRESH_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function newRefreshToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

function invalidSession() {
  return unauthenticated(SESSION_INVALID_MESSAGE);
}

function checkInput(input: { userId: string; role: Role }): void {
  if (typeof input.userId !== 'string' || input.userId === '') throw new Error('A session needs a userId.');
  if (typeof input.role !== 'string' || !isRole(input.role)) throw new Error(`A session needs a valid role, got ${String(input.role)}.`);
}

function millis(now: Date): number {
  const ms = now.getTime();
  if (!Number.isSafeInteger(ms)) throw new Error('The session store needs a valid time.');
  return ms;
}

function bySessionAge(a: Session, b: Session): number {
  return a.createdAt.getTime() - b.createdAt.getTime() || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

interface StoredSession {
  userId: string;
  role: Role;
  createdAt: number;
  expiresAt: number;
  /** Hash of the one refresh token that may still be presented. */
  current: string;
}

function toSession(id: string, s: StoredSession): Session {
  return { id, userId: s.userId, role: s.role, createdAt: new Date(s.createdAt), expiresAt: new Date(s.expiresAt) };
}

/**
 * The embedded default: the same rules in process memory. Every method does its reads and writes without
 * an `await` in between, which makes each one atomic on the event loop.
 */
export class InMemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, StoredSession>();
  /** Token hash → session, for current and used tokens; forgotten `TTL` after their last use, as on Redis. */
  private readonly tokens = new Map<string, { sessionId: string; forgetAt: number }>();
  private readonly byUser = new Map<string, Set<string>>();
  private lastSweep = Number.NEGATIVE_INFINITY;
  private readonly logger?: Logger;

  constructor(options: { logger?: Logger } = {}) {
    this.logger = options.logger;
  }

  async create(input: { userId: string; role: Role }, now: Date): Promise<{ session: Session; refreshToken: string }> {
    checkInput(input);
    const at = millis(now);
    this.sweep(at);
    const id = randomUUID();
    const { token, hash } = newRefreshToken();
    const stored: StoredSession = { userId: input.userId, role: input.role, createdAt: at, expiresAt: at + TTL_MS, current: hash };
    this.sessions.set(id, stored);
    this.tokens.set(hash, { sessionId: id, forgetAt: at + TTL_MS });
    let ids = this.byUser.get(input.userId);
    if (!ids) this.byUser.set(input.userId, (ids = new Set()));
    ids.add(id);
    return { session: toSession(id, stored), refreshToken: token };
  }

  async rotate(refreshToken: string, now: Date): Promise<{ session: Session; refreshToken: string }> {
    const at = millis(now);
    if (typeof refreshToken !== 'string' || !REFRESH_TOKEN_SHAPE.test(refreshToken)) throw invalidSession();
    const hash = hashToken(refreshToken);
    const record = this.tokens.get(hash);
    if (!record || record.forgetAt <= at) throw invalidSession();
    const stored = this.sessions.get(record.sessionId);
    if (!stored) throw invalidSession();
    if (stored.current !== hash) {
      this.remove(record.sessionId);
      this.logger?.warn(
        { sessionId: record.sessionId, userId: stored.userId },
        'a used refresh token was presented again: session revoked',
      );
      throw invalidSession();
    }
    if (stored.expiresAt <= at) {
      this.remove(record.sessionId);
      throw invalidSession();
    }
    const next = newRefreshToken();
    stored.current = next.hash;
    stored.expiresAt = at + TTL_MS;
    record.forgetAt = at + TTL_MS;
    this.tokens.set(next.hash, { sessionId: record.sessionId, forgetAt: at + TTL_MS });
    return { session: toSession(record.sessionId, stored), refreshToken: next.token };
  }

  async get(sessionId: string, now: Date): Promise<Session | null> {
    const at = millis(now);
    const stored = this.sessions.get(sessionId);
    return stored && stored.expiresAt > at ? toSession(sessionId, stored) : null;
  }

  async revoke(sessionId: string): Promise<void> {
    this.remove(sessionId);
  }

  async revokeAllForUser(userId: string): Promise<number> {
    const ids = [...(this.byUser.get(userId) ?? [])];
    for (const id of ids) this.remove(id);
    return ids.length;
  }

  async listForUser(userId: string, now: Date): Promise<Session[]> {
    const at = millis(now);
    const sessions: Session[] = [];
    for (const id of this.byUser.get(userId) ?? []) {
      const stored = this.sessions.get(id);
      if (stored && stored.expiresAt > at) sessions.push(toSession(id, stored));
    }
    return sessions.sort(bySessionAge);
  }

  async dispose(): Promise<void> {
    this.sessions.clear();
    this.tokens.clear();
    this.byUser.clear();
  }

  /** Ends a session. Its token records stay (they point nowhere now) until swept. */
  private remove(sessionId: string): void {
    const stored = this.sessions.get(sessionId);
    if (!stored) return;
    this.sessions.delete(sessionId);
    const ids = this.byUser.get(stored.userId);
    ids?.delete(sessionId);
    if (ids?.size === 0) this.byUser.delete(stored.userId);
  }

  /** Forgets expired sessions and old token records, at most once a minute, so memory does not grow forever. */
  private sweep(at: number): void {
    if (at - this.lastSweep < 60_000) return;
    this.lastSweep = at;
    for (const [id, stored] of this.sessions) if (stored.expiresAt <= at) this.remove(id);
    for (const [hash, record] of this.tokens) if (record.forgetAt <= at || !this.sessions.has(record.sessionId)) this.tokens.delete(hash);
  }
}

/**
 * Keeps the user's session index expiring with its longest-lived session, and drops it when empty.
 * ARGV of the caller decides `now`; scores are expiry times in ms.
 */
const TOUCH_USER = `
local function touchUser(ukey, now)
  local top = redis.call('ZRANGE', ukey, -1, -1, 'WITHSCORES')
  if top[2] and tonumber(top[2]) > now then
    redis.call('PEXPIRE', ukey, math.floor(tonumber(top[2]) - now))
  else
    redis.call('DEL', ukey)
  end
end
`;

/** KEYS: session, token, user index. ARGV: sessionId, userId, role, createdAt, expiresAt, tokenHash, ttlMs, now. */
const CREATE_SCRIPT = `${TOUCH_USER}
local now = tonumber(ARGV[8])
redis.call('HSET', KEYS[1], 'userId', ARGV[2], 'role', ARGV[3], 'createdAt', ARGV[4], 'expiresAt', ARGV[5], 'current', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[7])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
touchUser(KEYS[3], now)
return 1
`;

/**
 * KEYS: the presented token's record. ARGV: key prefix (\`<prefix>:session:\`), presented hash, new hash,
 * now, new expiresAt, ttlMs. The session and user keys are derived from the token record inside the
 * script, so the whole check-and-rotate is one atomic step (standalone Redis; not Redis Cluster).
 */
const ROTATE_SCRIPT = `${TOUCH_USER}
local sid = redis.call('GET', KEYS[1])
if not sid then return {'unknown'} end
local skey = ARGV[1] .. 'id:' .. sid
local s = redis.call('HMGET', skey, 'userId', 'role', 'createdAt', 'expiresAt', 'current')
if not s[1] then return {'unknown'} end
local ukey = ARGV[1] .. 'user:' .. s[1]
local now = tonumber(ARGV[4])
if s[5] ~= ARGV[2] then
  redis.call('DEL', skey)
  redis.call('ZREM', ukey, sid)
  return {'reused', sid, s[1]}
end
if tonumber(s[4]) <= now then
  redis.call('DEL', skey)
  redis.call('ZREM', ukey, sid)
  return {'expired'}
end
redis.call('HSET', skey, 'current', ARGV[3], 'expiresAt', ARGV[5])
redis.call('PEXPIRE', skey, ARGV[6])
redis.call('SET', KEYS[1], sid, 'PX', ARGV[6])
redis.call('SET', ARGV[1] .. 'token:' .. ARGV[3], sid, 'PX', ARGV[6])
redis.call('ZADD', ukey, ARGV[5], sid)
touchUser(ukey, now)
return {'ok', sid, s[1], s[2], s[3]}
`;

/** KEYS: session. ARGV: key prefix. */
const REVOKE_SCRIPT = `
local userId = redis.call('HGET', KEYS[1], 'userId')
if not userId then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', ARGV[1] .. 'user:' .. userId, ARGV[2])
return 1
`;

/** KEYS: user index. ARGV: key prefix. */
const REVOKE_ALL_SCRIPT = `
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
local ended = 0
for _, id in ipairs(ids) do
  ended = ended + redis.call('DEL', ARGV[1] .. 'id:' .. id)
end
redis.call('DEL', KEYS[1])
return ended
`;

/** A Lua script run by its SHA, loaded on first use (and again after a Redis restart flushed the cache). */
class Script {
  private readonly sha: string;
  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

const SCRIPTS = {
  create: new Script(CREATE_SCRIPT),
  rotate: new Script(ROTATE_SCRIPT),
  revoke: new Script(REVOKE_SCRIPT),
  revokeAll: new Script(REVOKE_ALL_SCRIPT),
};

/** Checks a prefix the way RedisBus does and returns it without a trailing ':'. */
export function redisKeyPrefix(prefix: string, what: string): string {
  if (!prefix || prefix.trim() === '') throw new Error(`${what} needs a non-empty key prefix.`);
  if (/\s/.test(prefix)) throw new Error(`${what} key prefix "${prefix}" must not contain whitespace.`);
  return prefix.replace(/:+$/, '');
}

/** Closes an ioredis connection for good (QUIT, then disconnect if it did not end). */
export async function closeRedis(redis: Redis): Promise<void> {
  await Promise.allSettled([redis.quit()]);
  if (redis.status !== 'end') redis.disconnect();
}

/**
 * Sessions in Redis, under `<prefix>:session:*`: `id:<sessionId>` (hash), `token:<sha256>` (→ session id,
 * for current and used tokens), `user:<userId>` (sorted set of session ids by expiry). Every key carries a
 * TTL, so Redis forgets sessions that ended. Rotation and revocation are Lua scripts (atomic).
 */
export class RedisSessionStore implements SessionStore {
  private readonly redis: Redis;
  /** `<prefix>:session:` */
  private readonly keys: string;
  private readonly logger?: Logger;
  private disposed = false;

  constructor(options: { url: string; prefix: string; logger?: Logger }) {
    const prefix = redisKeyPrefix(options.prefix, 'RedisSessionStore');
    this.keys = `${prefix}:session:`;
    this.logger = options.logger;
    this.redis = new Redis(options.url, { maxRetriesPerRequest: 3, connectionName: `${prefix}:sessions` });
    this.redis.on('error', (err) => options.logger?.warn({ err: { message: err.message } }, 'redis session store connection error'));
  }

  private sessionKey(id: string): string {
    return `${this.keys}id:${id}`;
  }

  private tokenKey(hash: string): string {
    return `${this.keys}token:${hash}`;
  }

  private userKey(userId: string): string {
    return `${this.keys}user:${userId}`;
  }

  async create(input: { userId: string; role: Role }, now: Date): Promise<{ session: Session; refreshToken: string }> {
    checkInput(input);
    const at = millis(now);
    const id = randomUUID();
    const { token, hash } = newRefreshToken();
    const stored: StoredSession = { userId: input.userId, role: input.role, createdAt: at, expiresAt: at + TTL_MS, current: hash };
    await SCRIPTS.create.run(
      this.redis,
      [this.sessionKey(id), this.tokenKey(hash), this.userKey(input.userId)],
      [id, stored.userId, stored.role, stored.createdAt, stored.expiresAt, hash, TTL_MS, at],
    );
    return { session: toSession(id, stored), refreshToken: token };
  }

  async rotate(refreshToken: string, now: Date): Promise<{ session: Session; refreshToken: string }> {
    const at = millis(now);
    if (typeof refreshToken !== 'string' || !REFRESH_TOKEN_SHAPE.test(refreshToken)) throw invalidSession();
    const hash = hashToken(refreshToken);
    const next = newRefreshToken();
    const expiresAt = at + TTL_MS;
    const reply = (await SCRIPTS.rotate.run(
      this.redis,
      [this.tokenKey(hash)],
      [this.keys, hash, next.hash, at, expiresAt, TTL_MS],
    )) as string[];
    if (reply[0] === 'reused') {
      this.logger?.warn({ sessionId: reply[1], userId: reply[2] }, 'a used refresh token was presented again: session revoked');
    }
    if (reply[0] !== 'ok') throw invalidSession();
    const [, id, userId, role, createdAt] = reply as [string, string, string, string, string];
    if (!isRole(role)) throw invalidSession();
    return {
      session: { id, userId, role, createdAt: new Date(Number(createdAt)), expiresAt: new Date(expiresAt) },
      refreshToken: next.token,
    };
  }

  async get(sessionId: string, now: Date): Promise<Session | null> {
    const at = millis(now);
    if (typeof sessionId !== 'string' || !UUID.test(sessionId)) return null;
    const session = parseStored(sessionId, await this.redis.hgetall(this.sessionKey(sessionId)));
    return session && session.expiresAt.getTime() > at ? session : null;
  }

  async revoke(sessionId: string): Promise<void> {
    if (typeof sessionId !== 'string' || !UUID.test(sessionId)) return;
    await SCRIPTS.revoke.run(this.redis, [this.sessionKey(sessionId)], [this.keys, sessionId]);
  }

  async revokeAllForUser(userId: string): Promise<number> {
    return Number(await SCRIPTS.revokeAll.run(this.redis, [this.userKey(userId)], [this.keys]));
  }

  async listForUser(userId: string, now: Date): Promise<Session[]> {
    const at = millis(now);
    const ids = await this.redis.zrangebyscore(this.userKey(userId), `(${at}`, '+inf');
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.sessionKey(id));
    const replies = (await pipeline.exec()) ?? [];
    const sessions: Session[] = [];
    replies.forEach(([err, fields], i) => {
      if (err) throw err;
      const session = parseStored(ids[i]!, fields as Record<string, string>);
      if (session && session.userId === userId && session.expiresAt.getTime() > at) sessions.push(session);
    });
    return sessions.sort(bySessionAge);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await closeRedis(this.redis);
  }
}

/** A session hash as Redis returns it, or null when it is gone or not one of ours. */
function parseStored(id: string, fields: Record<string, string>): Session | null {
  const { userId, role, createdAt, expiresAt } = fields;
  if (!userId || !role || !isRole(role) || !createdAt || !expiresAt) return null;
  const created = Number(createdAt);
  const expires = Number(expiresAt);
  if (!Number.isSafeInteger(created) || !Number.isSafeInteger(expires)) return null;
  return { id, userId, role, createdAt: new Date(created), expiresAt: new Date(expires) };
}

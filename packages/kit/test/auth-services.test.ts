import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  createAuthServices,
  InMemoryAttemptCounter,
  InMemorySessionStore,
  issueAccessToken,
  keysFromEnv,
  RedisAttemptCounter,
  RedisSessionStore,
  ServiceClock,
  verifyAccessToken,
  type AuthServices,
} from '@shelfwise/kit';
import { freshRedisPrefix, hasRedis, TEST_REDIS_URL } from '@shelfwise/testkit';

const redisOk = await hasRedis();
const itRedis = redisOk ? it : it.skip;

const NOW = new Date('2030-01-01T00:00:00.000Z');

describe('createAuthServices', () => {
  const opened: AuthServices[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.dispose()));
  });
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  async function open(options: Parameters<typeof createAuthServices>[0]): Promise<AuthServices> {
    const services = await createAuthServices(options);
    opened.push(services);
    return services;
  }

  it('without Redis: in-memory stores, the attempt counter on the given clock, and working keys', async () => {
    const clock = new ServiceClock(true);
    const auth = await open({ clock });
    expect(auth.sessions).toBeInstanceOf(InMemorySessionStore);
    expect(auth.attempts).toBeInstanceOf(InMemoryAttemptCounter);
    await auth.attempts.hit('k', 60);
    clock.advance(60);
    expect(await auth.attempts.count('k')).toBe(0);

    const { session } = await auth.sessions.create({ userId: 'u-1', role: 'PATRON' }, NOW);
    const { token } = await issueAccessToken(auth.keys, { userId: 'u-1', role: 'PATRON', sessionId: session.id }, NOW);
    await expect(verifyAccessToken(auth.keys, token, NOW)).resolves.toEqual({ userId: 'u-1', role: 'PATRON', sessionId: session.id });
  });

  it('keeps the generated key under dataDir, and uses configured keys instead when given', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'shelfwise-auth-'));
    dirs.push(dataDir);
    const first = await open({ dataDir });
    const again = await open({ dataDir });
    expect(again.keys.kid).toBe(first.keys.kid);
    expect(await readdir(path.join(dataDir, 'keys'))).toEqual(['jwt-ed25519.json']);

    const pem = generateKeyPairSync('ed25519').publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const verifyOnly = await open({ dataDir, keys: keysFromEnv({ SHELFWISE_JWT_PUBLIC_KEY: pem }) });
    expect(verifyOnly.keys.privateKey).toBeUndefined();
    expect(verifyOnly.keys.kid).not.toBe(first.keys.kid);
  });

  itRedis('with a Redis URL: Redis stores under the prefix, closed by dispose()', async () => {
    const prefix = freshRedisPrefix('auth');
    const auth = await open({ redisUrl: TEST_REDIS_URL, prefix });
    expect(auth.sessions).toBeInstanceOf(RedisSessionStore);
    expect(auth.attempts).toBeInstanceOf(RedisAttemptCounter);
    const { session } = await auth.sessions.create({ userId: 'u-1', role: 'ADMIN' }, NOW);
    await expect(auth.sessions.get(session.id, NOW)).resolves.toEqual(session);
    expect(await auth.attempts.hit('k', 60)).toBe(1);
    await auth.dispose();
    await auth.dispose(); // idempotent
    await expect(auth.sessions.get(session.id, NOW)).rejects.toThrow();
    await expect(auth.attempts.count('k')).rejects.toThrow();
  });
});

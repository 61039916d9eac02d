import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { CALLER_HEADER, callerCredential, createAuthServices, GENERATED_KEY_FILE, type ServiceOptions } from '@shelfwise/kit';
import { dropTestDatabase, freshDatabaseName, graphql, hasPostgres, TEST_DATABASE_URL } from '@shelfwise/testkit';
import { adminFromEnv, DEFAULT_ADMIN_EMAIL, DEFAULT_ADMIN_PASSWORD, start, type AdminAccount, type UsersHandle } from '../src/server.js';
import { capturingLogger, WARN, type LogLine } from './helpers.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;

const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { user { email role } } }`;

/** Whether `password` signs `email` in, through the GraphQL API. */
async function canSignIn(handle: UsersHandle, email: string, password: string): Promise<boolean> {
  const res = await graphql(handle.url, LOGIN, { email, password }, { [CALLER_HEADER]: callerCredential(null, null) });
  if (res.errors?.[0]?.extensions?.code === 'UNAUTHENTICATED') return false;
  expect(res.errors).toBeUndefined();
  return true;
}

const warnings = (lines: LogLine[], text: string) => lines.filter((l) => l.level === WARN && l.msg.includes(text));

describe('adminFromEnv', () => {
  it('uses the documented local defaults when nothing is set', () => {
    expect(adminFromEnv({})).toEqual({ email: 'admin@shelfwise.local', password: 'change-me-shelfwise-admin' });
    expect(adminFromEnv({ SHELFWISE_ADMIN_EMAIL: ' ', SHELFWISE_ADMIN_PASSWORD: '   ' })).toEqual({
      email: DEFAULT_ADMIN_EMAIL,
      password: DEFAULT_ADMIN_PASSWORD,
    });
  });

  it('takes SHELFWISE_ADMIN_EMAIL and SHELFWISE_ADMIN_PASSWORD as given', () => {
    expect(adminFromEnv({ SHELFWISE_ADMIN_EMAIL: 'chief@library.example', SHELFWISE_ADMIN_PASSWORD: ' a long passphrase ' })).toEqual({
      email: 'chief@library.example',
      password: ' a long passphrase ',
    });
  });
});

/**
 * The first admin, against a store that outlives one start: `fresh()` gives the options of a new, empty
 * one (a PGlite folder or a Postgres database) that every start of one test reuses.
 */
function bootstrapSuite(fresh: () => Promise<ServiceOptions>) {
  const running: UsersHandle[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((h) => h.stop()));
  });

  async function started(options: ServiceOptions & { admin?: AdminAccount }) {
    const capture = capturingLogger();
    const handle = await start({ ...options, logger: capture.logger });
    running.push(handle);
    return { handle, lines: capture.lines };
  }

  it('creates no account without the admin option', async () => {
    const { handle } = await started(await fresh());
    expect(await handle.users.count()).toBe(0);
  });

  it('creates the first admin once, with a hashed password, and warns while it has the default password', async () => {
    const options = await fresh();
    const first = await started({ ...options, admin: { email: ' Root@Example.ORG ', password: DEFAULT_ADMIN_PASSWORD } });
    const admin = await first.handle.users.findByEmail('root@example.org');
    expect(admin).toMatchObject({ email: 'root@example.org', name: 'Administrator', role: 'ADMIN' });
    const row = await first.handle.database.prisma.user.findUnique({ where: { id: admin!.id }, omit: { passwordHash: false } });
    expect(row?.passwordHash).toMatch(/^scrypt\$/);
    expect(await canSignIn(first.handle, 'root@example.org', DEFAULT_ADMIN_PASSWORD)).toBe(true);
    expect(warnings(first.lines, 'set SHELFWISE_ADMIN_PASSWORD')).toHaveLength(1);
    expect(first.lines.map((l) => l.text).filter((t) => t.includes(DEFAULT_ADMIN_PASSWORD))).toEqual([]);
    await first.handle.stop();

    // A later start with another password changes nothing, and says the default is still in use.
    const second = await started({ ...options, admin: { email: 'root@example.org', password: 'a-new-admin-password' } });
    expect(await second.handle.users.count()).toBe(1);
    expect(await second.handle.users.findByEmail('root@example.org')).toEqual(admin);
    expect(await canSignIn(second.handle, 'root@example.org', DEFAULT_ADMIN_PASSWORD)).toBe(true);
    expect(await canSignIn(second.handle, 'root@example.org', 'a-new-admin-password')).toBe(false);
    expect(second.lines.filter((l) => l.msg === 'created the first admin account')).toEqual([]);
    expect(warnings(second.lines, 'only applies when the account is created')).toHaveLength(1);
  });

  it('does not warn about an admin created with its own password', async () => {
    const options = await fresh();
    const first = await started({ ...options, admin: { email: 'chief@example.org', password: 'a-strong-admin-password' } });
    expect(await canSignIn(first.handle, 'chief@example.org', 'a-strong-admin-password')).toBe(true);
    expect(first.lines.filter((l) => l.msg === 'created the first admin account')).toHaveLength(1);
    expect(first.lines.filter((l) => l.level >= WARN)).toEqual([]);
    await first.handle.stop();
    const again = await started({ ...options, admin: { email: 'chief@example.org', password: 'a-strong-admin-password' } });
    expect(again.lines.filter((l) => l.level >= WARN)).toEqual([]);
    expect(await again.handle.users.count()).toBe(1);
  });

  it('leaves an existing account with that email exactly as it is', async () => {
    const options = await fresh();
    const first = await started(options);
    const created = await first.handle.users.create({ email: 'boss@example.org', name: 'Bo Ss' });
    await first.handle.accounts.setPassword(created.id, 'the boss own password');
    const boss = await first.handle.users.findById(created.id);
    await first.handle.stop();

    const second = await started({ ...options, admin: { email: 'BOSS@example.org', password: DEFAULT_ADMIN_PASSWORD } });
    expect(await second.handle.users.findByEmail('boss@example.org')).toEqual(boss);
    expect(await canSignIn(second.handle, 'boss@example.org', 'the boss own password')).toBe(true);
    expect(await canSignIn(second.handle, 'boss@example.org', DEFAULT_ADMIN_PASSWORD)).toBe(false);
    expect(warnings(second.lines, 'not an admin')).toHaveLength(1);
    expect(await second.handle.users.count()).toBe(1);
  });

  it('creates exactly one admin when two instances start at once', async () => {
    const { handle } = await started(await fresh());
    const admin = { email: 'twice@example.org', password: 'a-strong-admin-password' };
    const results = await Promise.all([handle.accounts.ensureAdmin(admin), handle.accounts.ensureAdmin(admin)]);
    expect(results.sort()).toEqual([false, true]);
    expect(await handle.users.count()).toBe(1);
  });

  it('refuses to start with an admin password that breaks the password rules', async () => {
    const options = await fresh();
    await expect(start({ ...options, admin: { email: 'weak@example.org', password: 'short' } })).rejects.toThrow(
      'The first admin account (SHELFWISE_ADMIN_EMAIL / SHELFWISE_ADMIN_PASSWORD) is not acceptable: A password needs at least 10 characters.',
    );
    await expect(
      start({ ...options, admin: { email: 'same.as.password@example.org', password: 'Same.As.Password@example.org' } }),
    ).rejects.toThrow('must not be your email address');
    // Nothing was left open or half-created: the same store starts cleanly afterwards.
    const { handle } = await started(options);
    expect(await handle.users.count()).toBe(0);
  });
}

const folders: string[] = [];
afterAll(async () => {
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});
async function freshFolder(): Promise<string> {
  const folder = await mkdtemp(path.join(os.tmpdir(), 'shelfwise-users-'));
  folders.push(folder);
  return folder;
}

describe('first admin (PGlite)', () => {
  bootstrapSuite(async () => ({ dataDir: path.join(await freshFolder(), 'users') }));
});

describePg('first admin (PostgreSQL)', () => {
  const databases: string[] = [];
  afterAll(async () => {
    for (const name of databases) await dropTestDatabase(name);
  });
  bootstrapSuite(async () => {
    const databaseName = freshDatabaseName('users_admin');
    databases.push(databaseName);
    return { databaseUrl: TEST_DATABASE_URL, databaseName };
  });
});

describe('start() and its AuthServices', () => {
  const running: UsersHandle[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((h) => h.stop()));
  });

  it('creates its own, keeps the signing key beside the data folder, and disposes them on stop', async () => {
    const root = await freshFolder();
    const first = await start({ dataDir: path.join(root, 'users') });
    running.push(first);
    expect(existsSync(path.join(root, GENERATED_KEY_FILE))).toBe(true);
    const kid = first.auth.keys.kid;
    const dispose = jest.spyOn(first.auth, 'dispose');
    await first.stop();
    expect(dispose).toHaveBeenCalledTimes(1);

    const second = await start({ dataDir: path.join(root, 'users') });
    running.push(second);
    expect(second.auth.keys.kid).toBe(kid);
  });

  it('uses the AuthServices it is given and leaves them open on stop', async () => {
    const auth = await createAuthServices({});
    const dispose = jest.spyOn(auth, 'dispose');
    const handle = await start({ auth });
    running.push(handle);
    expect(handle.auth).toBe(auth);
    await handle.stop();
    expect(dispose).not.toHaveBeenCalled();
    await auth.dispose();
  });
});

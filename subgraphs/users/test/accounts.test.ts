import { createHash, randomUUID } from 'node:crypto';
import {
  ACCESS_TOKEN_TTL_SECONDS,
  CALLER_HEADER,
  callerCredential,
  createAuthServices,
  passwordHashingStats,
  SESSION_INVALID_MESSAGE,
  verifyAccessToken,
  type AccessClaims,
  type AuthServices,
  type Role,
  type ServiceOptions,
  type Viewer,
} from '@shelfwise/kit';
import {
  dropTestDatabase,
  freshDatabaseName,
  freshRedisPrefix,
  graphql,
  hasPostgres,
  hasRedis,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  type GraphQLResponse,
} from '@shelfwise/testkit';
import { LOGIN_FAILED_MESSAGE, start, type UsersHandle } from '../src/server.js';
import { capturingLogger, FixedClock, type LogLine } from './helpers.js';

const pgOk = await hasPostgres();
const describePg = pgOk ? describe : describe.skip;
const redisOk = await hasRedis();
const describeRedis = redisOk ? describe : describe.skip;

interface UserFields {
  id: string;
  email: string | null;
  name: string;
  role: Role;
  createdAt: string;
}
interface Payload {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
  user: UserFields;
}

const PAYLOAD = 'accessToken refreshToken expiresAt user { id email name role createdAt }';
const REGISTER = `mutation($input: RegisterInput!) { register(input: $input) { ${PAYLOAD} } }`;
const LOGIN = `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { ${PAYLOAD} } }`;
const REFRESH = `mutation($token: String!) { refreshSession(refreshToken: $token) { ${PAYLOAD} } }`;
const LOGOUT = 'mutation { logout }';
const LOGOUT_EVERYWHERE = 'mutation { logoutEverywhere }';
const UPDATE_PROFILE = `mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { id email name role } }`;
const SET_ROLE = `mutation($userId: ID!, $role: Role!) { setUserRole(userId: $userId, role: $role) { id name role } }`;

const PASSWORD = 'correct horse battery staple';

/** The router's credential for `viewer` coming from `address`. */
const as = (viewer: Viewer | null, address: string | null = null) => ({ [CALLER_HEADER]: callerCredential(viewer, address) });

let addressCounter = 0;
/** An address no other test has used, so the per-address rule only sees what a test does. */
const freshAddress = () => `198.51.100.${++addressCounter % 250}:${addressCounter}`;
let emailCounter = 0;
const freshEmail = (label: string) => `${label}.${++emailCounter}.${randomUUID().slice(0, 8)}@example.org`;

function errorOf(res: GraphQLResponse<unknown>): { code: unknown; message: string; extensions: Record<string, unknown> } {
  const error = res.errors?.[0];
  if (!error) throw new Error(`Expected an error, got ${JSON.stringify(res)}`);
  return { code: error.extensions?.code, message: error.message, extensions: error.extensions ?? {} };
}

/**
 * The account rules against a running users subgraph, with the AuthServices it creates itself: in memory,
 * the failure counters on the test clock (so the lockout window passes without waiting).
 */
function accountSuite(options: () => ServiceOptions) {
  let users: UsersHandle;
  let clock: FixedClock;
  let logLines: LogLine[];
  /** Every response body this suite received, and every password it used: none may show up in the other. */
  const bodies: string[] = [];
  const passwords = new Set<string>();

  beforeAll(async () => {
    clock = new FixedClock(new Date('2030-06-01T09:00:00.000Z'));
    const capture = capturingLogger();
    logLines = capture.lines;
    users = await start({ ...options(), clock, logger: capture.logger });
  });
  afterAll(() => users.stop());

  async function call<T>(query: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) {
    const res = await graphql<T>(users.url, query, variables, headers);
    bodies.push(JSON.stringify(res));
    return res;
  }

  async function register(input: { email?: string; password?: string; name?: string } = {}, address: string | null = null) {
    const full = { email: input.email ?? freshEmail('reader'), password: input.password ?? PASSWORD, name: input.name ?? 'Rita Reader' };
    passwords.add(full.password);
    return call<{ register: Payload }>(REGISTER, { input: full }, as(null, address));
  }

  /** Registers and returns the payload (fails the test when refused). */
  async function registered(input: { email?: string; password?: string; name?: string } = {}): Promise<Payload> {
    const res = await register(input);
    expect(res.errors).toBeUndefined();
    return res.data!.register;
  }

  async function login(email: string, password: string, address: string | null = freshAddress()) {
    passwords.add(password);
    return call<{ login: Payload }>(LOGIN, { email, password }, as(null, address));
  }

  async function loggedIn(email: string, password = PASSWORD): Promise<Payload> {
    const res = await login(email, password);
    expect(res.errors).toBeUndefined();
    return res.data!.login;
  }

  const refresh = (token: string) => call<{ refreshSession: Payload }>(REFRESH, { token });

  /** What the router would establish from the payload's access token. */
  const claimsOf = (payload: Payload): Promise<AccessClaims> => verifyAccessToken(users.auth.keys, payload.accessToken, clock.now());
  const viewerOf = async (payload: Payload): Promise<Viewer> => claimsOf(payload);

  /** A user with a password and the given role, made the way seeding would. */
  async function staff(role: Role, name: string): Promise<{ id: string; email: string }> {
    const user = await users.users.create({ email: freshEmail(role.toLowerCase()), name, role });
    await users.accounts.setPassword(user.id, PASSWORD);
    return user;
  }

  describe('register', () => {
    it('creates a signed-in patron with a normalised email and a hashed password', async () => {
      const email = freshEmail('New.Reader');
      const res = await register({ email: `  ${email.toUpperCase()} `, name: '  Nora Reader  ' });
      expect(res.errors).toBeUndefined();
      const payload = res.data!.register;
      expect(payload.user).toMatchObject({ email: email.toLowerCase(), name: 'Nora Reader', role: 'PATRON' });
      expect(payload.expiresAt).toBe(new Date(clock.now().getTime() + ACCESS_TOKEN_TTL_SECONDS * 1000).toISOString());
      const claims = await claimsOf(payload);
      expect(claims).toMatchObject({ userId: payload.user.id, role: 'PATRON' });
      expect(await users.auth.sessions.get(claims.sessionId, clock.now())).toMatchObject({ userId: payload.user.id, role: 'PATRON' });
      const row = await users.database.prisma.user.findUnique({ where: { id: payload.user.id }, omit: { passwordHash: false } });
      expect(row?.passwordHash).toMatch(/^scrypt\$15\$8\$1\$/);
      expect(row?.passwordHash).not.toContain(PASSWORD);
    });

    it('refuses an email that is not one and one that already has an account, in any letter case', async () => {
      for (const email of ['not-an-email', 'someone@localhost', '   ', 'two@@example.org', `${'x'.repeat(250)}@example.org`]) {
        const res = await register({ email });
        expect(errorOf(res).code).toBe('BAD_USER_INPUT');
        expect(errorOf(res).message).toMatch(/email/i);
      }
      const email = freshEmail('taken');
      expect((await register({ email })).errors).toBeUndefined();
      const before = await users.users.count();
      const again = await register({ email: ` ${email.toUpperCase()}` });
      expect(errorOf(again)).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('already exists') });
      expect(again.data).toBeNull();
      expect(await users.users.count()).toBe(before);
    });

    it('needs a name of 1 to 100 characters', async () => {
      const blank = await register({ name: '   ' });
      expect(errorOf(blank)).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/name/i) });
      const long = await register({ name: 'n'.repeat(101) });
      expect(errorOf(long)).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('at most 100') });
      const longest = await register({ name: 'n'.repeat(100) });
      expect(longest.errors).toBeUndefined();
      expect(longest.data?.register.user.name).toBe('n'.repeat(100));
    });

    it('needs a password of 10 to 200 characters that is not the email', async () => {
      const short = await register({ password: '123456789' });
      expect(errorOf(short)).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('at least 10') });
      expect((await register({ password: '1234567890' })).errors).toBeUndefined();

      const long = await register({ password: 'p'.repeat(201) });
      expect(errorOf(long)).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('at most 200') });
      expect((await register({ password: 'p'.repeat(200) })).errors).toBeUndefined();

      const email = freshEmail('same');
      const same = await register({ email, password: email.toUpperCase() });
      expect(errorOf(same)).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/email/) });
      expect(await users.users.findByEmail(email)).toBeNull();
      expect((await register({ email, password: `${email}!` })).errors).toBeUndefined();
    });
  });

  describe('login', () => {
    it('signs in with the right password, whatever the letter case of the email, into a new session', async () => {
      const email = freshEmail('Lena');
      const first = await registered({ email });
      const res = await login(`  ${email.toUpperCase()} `, PASSWORD);
      expect(res.errors).toBeUndefined();
      const payload = res.data!.login;
      expect(payload.user).toEqual(first.user);
      expect((await claimsOf(payload)).sessionId).not.toBe((await claimsOf(first)).sessionId);
      expect(await users.auth.sessions.listForUser(first.user.id, clock.now())).toHaveLength(2);
    });

    it('answers an unknown email, a wrong password and an account without a password alike, after one key derivation each', async () => {
      const email = freshEmail('known');
      await registered({ email });
      const seeded = await users.users.create({ email: freshEmail('seeded'), name: 'No Password' });

      const cost = async (attempt: () => Promise<GraphQLResponse<{ login: Payload }>>) => {
        const before = passwordHashingStats.derivations;
        const res = await attempt();
        return { res, derivations: passwordHashingStats.derivations - before };
      };
      const right = await cost(() => login(email, PASSWORD));
      const wrong = await cost(() => login(email, 'not the password at all'));
      const unknown = await cost(() => login(freshEmail('nobody'), PASSWORD));
      const noPassword = await cost(() => login(seeded.email, PASSWORD));

      expect(right.res.errors).toBeUndefined();
      expect([right.derivations, wrong.derivations, unknown.derivations, noPassword.derivations]).toEqual([1, 1, 1, 1]);
      for (const refused of [wrong, unknown, noPassword]) {
        expect(refused.res.data).toBeNull();
        expect(refused.res.errors).toEqual([
          { message: LOGIN_FAILED_MESSAGE, path: ['login'], locations: expect.any(Array), extensions: { code: 'UNAUTHENTICATED' } },
        ]);
      }
      expect(unknown.res).toEqual(wrong.res);
      expect(noPassword.res).toEqual(wrong.res);
    });
  });

  describe('lockout', () => {
    const tooMany = (minutes: number, seconds: number) => ({
      code: 'RATE_LIMITED',
      message: `Too many failed sign-in attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
      extensions: { code: 'RATE_LIMITED', retryAfterSeconds: seconds },
    });

    it('refuses an account after 5 failures in 15 minutes, before checking the password, until the window ends', async () => {
      const email = freshEmail('target');
      await registered({ email });
      for (let i = 1; i <= 5; i++) {
        // Each from another address: this is the account rule, not the address one.
        expect(errorOf(await login(email, `wrong password ${i}`)).code).toBe('UNAUTHENTICATED');
      }
      const before = passwordHashingStats.derivations;
      const locked = await login(email, PASSWORD);
      expect(errorOf(locked)).toEqual(tooMany(15, 900));
      expect(passwordHashingStats.derivations).toBe(before);

      clock.advance(601);
      expect(errorOf(await login(email, PASSWORD))).toEqual(tooMany(5, 299));
      clock.advance(299);
      const after = await login(email, PASSWORD);
      expect(after.errors).toBeUndefined();
      expect(after.data?.login.user.email).toBe(email);
    });

    it('counts failures for an email nobody has too, so lockout does not tell which accounts exist', async () => {
      const email = freshEmail('ghost');
      for (let i = 0; i < 5; i++) expect(errorOf(await login(email, PASSWORD)).message).toBe(LOGIN_FAILED_MESSAGE);
      expect(errorOf(await login(email, PASSWORD))).toEqual(tooMany(15, 900));
    });

    it('starts the count again after a successful sign-in', async () => {
      const email = freshEmail('forgetful');
      await registered({ email });
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 4; i++) expect(errorOf(await login(email, 'almost the password')).code).toBe('UNAUTHENTICATED');
        const ok = await login(email, PASSWORD);
        expect(ok.errors).toBeUndefined();
      }
      expect(await users.auth.attempts.count(`login:account:${sha256(email)}`)).toBe(0);
    });

    it('refuses an address after 20 failures over any emails, while other addresses still sign in', async () => {
      const email = freshEmail('bystander');
      await registered({ email });
      const address = freshAddress();
      for (let i = 0; i < 19; i++) expect(errorOf(await login(freshEmail('spray'), PASSWORD, address)).code).toBe('UNAUTHENTICATED');
      expect((await login(email, PASSWORD, address)).errors).toBeUndefined();
      // A success does not reset the address: one valid account must not clear a spraying address.
      expect(errorOf(await login(freshEmail('spray'), PASSWORD, address)).code).toBe('UNAUTHENTICATED');
      const before = passwordHashingStats.derivations;
      expect(errorOf(await login(email, PASSWORD, address))).toEqual(tooMany(15, 900));
      expect(passwordHashingStats.derivations).toBe(before);
      expect((await login(email, PASSWORD, freshAddress())).errors).toBeUndefined();
    });

    it('has no address rule when the router does not know the address', async () => {
      const email = freshEmail('anywhere');
      await registered({ email });
      for (let i = 0; i < 21; i++) expect(errorOf(await login(freshEmail('spray'), PASSWORD, null)).code).toBe('UNAUTHENTICATED');
      expect((await login(email, PASSWORD, null)).errors).toBeUndefined();
    });
  });

  describe('refreshSession', () => {
    it('rotates the refresh token and keeps the session and its role', async () => {
      const librarian = await staff('LIBRARIAN', 'Lib Rarian');
      const signedIn = await loggedIn(librarian.email);
      const res = await refresh(signedIn.refreshToken);
      expect(res.errors).toBeUndefined();
      const next = res.data!.refreshSession;
      expect(next.refreshToken).not.toBe(signedIn.refreshToken);
      expect(next.user).toEqual(signedIn.user);
      const [before, after] = [await claimsOf(signedIn), await claimsOf(next)];
      expect(after).toEqual({ userId: librarian.id, role: 'LIBRARIAN', sessionId: before.sessionId });
      expect(next.expiresAt).toBe(new Date(clock.now().getTime() + ACCESS_TOKEN_TTL_SECONDS * 1000).toISOString());
    });

    it('ends the session when a used refresh token comes back; the newest token then fails too', async () => {
      const first = await registered();
      const second = (await refresh(first.refreshToken)).data!.refreshSession;
      const { sessionId } = await claimsOf(second);
      expect(await users.auth.sessions.get(sessionId, clock.now())).not.toBeNull();

      const reuse = await refresh(first.refreshToken);
      expect(errorOf(reuse)).toMatchObject({ code: 'UNAUTHENTICATED', message: SESSION_INVALID_MESSAGE });
      expect(reuse.data).toBeNull();
      expect(await users.auth.sessions.get(sessionId, clock.now())).toBeNull();
      expect(errorOf(await refresh(second.refreshToken))).toMatchObject({ code: 'UNAUTHENTICATED', message: SESSION_INVALID_MESSAGE });
    });

    it('refuses a refresh token that is not one', async () => {
      for (const token of ['', 'nope', 'a'.repeat(43)]) expect(errorOf(await refresh(token)).code).toBe('UNAUTHENTICATED');
    });

    it('ends a session whose role is no longer the user’s', async () => {
      const payload = await registered();
      const { sessionId } = await claimsOf(payload);
      await users.database.prisma.user.update({ where: { id: payload.user.id }, data: { role: 'LIBRARIAN' } });
      expect(errorOf(await refresh(payload.refreshToken)).code).toBe('UNAUTHENTICATED');
      expect(await users.auth.sessions.get(sessionId, clock.now())).toBeNull();
      // Signing in again gives a session with the new role.
      const again = await loggedIn(payload.user.email!);
      expect((await claimsOf(again)).role).toBe('LIBRARIAN');
    });
  });

  describe('logout', () => {
    it('ends only the session the request belongs to', async () => {
      const phone = await registered();
      const laptop = await loggedIn(phone.user.email!);
      const [phoneSession, laptopSession] = [(await claimsOf(phone)).sessionId, (await claimsOf(laptop)).sessionId];

      const res = await call<{ logout: boolean }>(LOGOUT, {}, as(await viewerOf(phone)));
      expect(res).toEqual({ data: { logout: true } });
      expect(await users.auth.sessions.get(phoneSession, clock.now())).toBeNull();
      expect(await users.auth.sessions.get(laptopSession, clock.now())).not.toBeNull();
      expect(errorOf(await refresh(phone.refreshToken)).code).toBe('UNAUTHENTICATED');
      expect((await refresh(laptop.refreshToken)).errors).toBeUndefined();

      const again = await call<{ logout: boolean }>(LOGOUT, {}, as(await viewerOf(phone)));
      expect(again).toEqual({ data: { logout: false } });
    });

    it('needs a signed-in user, and ends nothing for a viewer without a session', async () => {
      expect(errorOf(await call(LOGOUT)).code).toBe('UNAUTHENTICATED');
      const payload = await registered();
      const withoutSession = await call<{ logout: boolean }>(LOGOUT, {}, as({ userId: payload.user.id, role: 'PATRON' }));
      expect(withoutSession).toEqual({ data: { logout: false } });
      expect(await users.auth.sessions.listForUser(payload.user.id, clock.now())).toHaveLength(1);
    });

    it('does not end another user’s session named in the credential', async () => {
      const victim = await registered();
      const attacker = await registered();
      const victimSession = (await claimsOf(victim)).sessionId;
      const forged = { userId: attacker.user.id, role: 'PATRON' as const, sessionId: victimSession };
      expect(await call(LOGOUT, {}, as(forged))).toEqual({ data: { logout: false } });
      expect(await users.auth.sessions.get(victimSession, clock.now())).not.toBeNull();
    });

    it('logoutEverywhere ends every session of the viewer and no one else’s', async () => {
      const mine = await registered();
      await loggedIn(mine.user.email!);
      await loggedIn(mine.user.email!);
      const theirs = await registered();

      expect(errorOf(await call(LOGOUT_EVERYWHERE)).code).toBe('UNAUTHENTICATED');
      const res = await call<{ logoutEverywhere: number }>(LOGOUT_EVERYWHERE, {}, as(await viewerOf(mine)));
      expect(res).toEqual({ data: { logoutEverywhere: 3 } });
      expect(await users.auth.sessions.listForUser(mine.user.id, clock.now())).toEqual([]);
      expect(errorOf(await refresh(mine.refreshToken)).code).toBe('UNAUTHENTICATED');
      expect(await users.auth.sessions.listForUser(theirs.user.id, clock.now())).toHaveLength(1);
      expect(await call(LOGOUT_EVERYWHERE, {}, as(await viewerOf(mine)))).toEqual({ data: { logoutEverywhere: 0 } });
    });
  });

  describe('updateProfile', () => {
    it('changes the viewer’s own name and email (normalised), and nobody else’s', async () => {
      const ann = await registered({ name: 'Ann Old' });
      const bob = await registered({ name: 'Bob Same' });
      const email = freshEmail('ann.new');
      const res = await call<{ updateProfile: UserFields }>(
        UPDATE_PROFILE,
        { input: { name: '  Ann New ', email: `  ${email.toUpperCase()}` } },
        as(await viewerOf(ann)),
      );
      expect(res.errors).toBeUndefined();
      expect(res.data?.updateProfile).toEqual({ id: ann.user.id, email, name: 'Ann New', role: 'PATRON' });
      expect(await users.users.findById(bob.user.id)).toMatchObject({ name: 'Bob Same', email: bob.user.email });
      expect((await login(email, PASSWORD)).errors).toBeUndefined();
      const nameOnly = await call<{ updateProfile: UserFields }>(UPDATE_PROFILE, { input: { name: 'Ann Newer' } }, as(await viewerOf(ann)));
      expect(nameOnly.data?.updateProfile).toMatchObject({ name: 'Ann Newer', email });
    });

    it('refuses an email another account has (CONFLICT) and keeps one’s own', async () => {
      const ann = await registered();
      const bob = await registered();
      const taken = await call(UPDATE_PROFILE, { input: { email: bob.user.email!.toUpperCase() } }, as(await viewerOf(ann)));
      expect(errorOf(taken)).toMatchObject({ code: 'CONFLICT', message: expect.stringContaining('already exists') });
      expect((await users.users.findById(ann.user.id))?.email).toBe(ann.user.email);
      const own = await call<{ updateProfile: UserFields }>(UPDATE_PROFILE, { input: { email: ann.user.email } }, as(await viewerOf(ann)));
      expect(own.errors).toBeUndefined();
    });

    it('refuses anonymous callers and bad input', async () => {
      expect(errorOf(await call(UPDATE_PROFILE, { input: { name: 'Nobody' } })).code).toBe('UNAUTHENTICATED');
      const ann = await registered({ name: 'Ann Kept' });
      const viewer = as(await viewerOf(ann));
      for (const input of [{ name: '  ' }, { name: 'n'.repeat(101) }, { email: 'not-an-email' }, {}, { name: null, email: null }]) {
        expect(errorOf(await call(UPDATE_PROFILE, { input }, viewer)).code).toBe('BAD_USER_INPUT');
      }
      expect(await users.users.findById(ann.user.id)).toMatchObject({ name: 'Ann Kept', email: ann.user.email });
    });
  });

  describe('setUserRole', () => {
    let admin: { id: string; email: string };

    beforeAll(async () => {
      expect(await users.database.prisma.user.count({ where: { role: 'ADMIN' } })).toBe(0);
      admin = await staff('ADMIN', 'Ada Admin');
    });

    it('is for admins only', async () => {
      const patron = await registered();
      const librarian = await staff('LIBRARIAN', 'Desk Person');
      const variables = { userId: patron.user.id, role: 'LIBRARIAN' };
      expect(errorOf(await call(SET_ROLE, variables)).code).toBe('UNAUTHENTICATED');
      expect(errorOf(await call(SET_ROLE, variables, as(await viewerOf(patron)))).code).toBe('FORBIDDEN');
      const byLibrarian = as(await viewerOf(await loggedIn(librarian.email)));
      expect(errorOf(await call(SET_ROLE, variables, byLibrarian))).toMatchObject({
        code: 'FORBIDDEN',
        message: 'Only an admin can do this.',
      });
      expect((await users.users.findById(patron.user.id))?.role).toBe('PATRON');
      const byAdmin = await call<{ setUserRole: UserFields }>(SET_ROLE, variables, as(await viewerOf(await loggedIn(admin.email))));
      expect(byAdmin.errors).toBeUndefined();
      expect(byAdmin.data?.setUserRole).toMatchObject({ id: patron.user.id, role: 'LIBRARIAN' });
    });

    it('ends the user’s sessions (not the admin’s), so the new role applies at their next sign-in', async () => {
      const patron = await registered();
      const other = await loggedIn(patron.user.email!);
      const adminSession = await loggedIn(admin.email);
      const res = await call<{ setUserRole: UserFields }>(
        SET_ROLE,
        { userId: patron.user.id, role: 'LIBRARIAN' },
        as(await viewerOf(adminSession)),
      );
      expect(res.data?.setUserRole.role).toBe('LIBRARIAN');
      expect(await users.auth.sessions.listForUser(patron.user.id, clock.now())).toEqual([]);
      expect(errorOf(await refresh(other.refreshToken)).code).toBe('UNAUTHENTICATED');
      expect(await users.auth.sessions.get((await claimsOf(adminSession)).sessionId, clock.now())).not.toBeNull();
      expect((await claimsOf(await loggedIn(patron.user.email!))).role).toBe('LIBRARIAN');
    });

    it('leaves sessions alone when the role does not change', async () => {
      const patron = await registered();
      const res = await call(SET_ROLE, { userId: patron.user.id, role: 'PATRON' }, as(await viewerOf(await loggedIn(admin.email))));
      expect(res.errors).toBeUndefined();
      expect(await users.auth.sessions.listForUser(patron.user.id, clock.now())).toHaveLength(1);
    });

    it('refuses to take the role from the last admin, and allows it once there is another', async () => {
      expect(await users.database.prisma.user.count({ where: { role: 'ADMIN' } })).toBe(1);
      const first = as(await viewerOf(await loggedIn(admin.email)));
      const alone = await call(SET_ROLE, { userId: admin.id, role: 'LIBRARIAN' }, first);
      expect(errorOf(alone)).toMatchObject({
        code: 'CONFLICT',
        message:
          'Ada Admin is the only admin, and the library needs at least one. Make another user an admin first, then change this role.',
      });
      expect((await users.users.findById(admin.id))?.role).toBe('ADMIN');

      const second = await staff('PATRON', 'Sam Second');
      expect((await call(SET_ROLE, { userId: second.id, role: 'ADMIN' }, first)).errors).toBeUndefined();
      const bySecond = as(await viewerOf(await loggedIn(second.email)));
      const demoted = await call<{ setUserRole: UserFields }>(SET_ROLE, { userId: admin.id.toUpperCase(), role: 'PATRON' }, bySecond);
      expect(demoted.data?.setUserRole).toMatchObject({ id: admin.id, role: 'PATRON' });
      // Now the second admin is the last one, whichever way its id is spelled.
      const self = await call(SET_ROLE, { userId: second.id.toUpperCase(), role: 'PATRON' }, bySecond);
      expect(errorOf(self).code).toBe('CONFLICT');
      expect(await users.database.prisma.user.count({ where: { role: 'ADMIN' } })).toBe(1);
      admin = second;
    });

    it('answers NOT_FOUND for a user that does not exist', async () => {
      const byAdmin = as(await viewerOf(await loggedIn(admin.email)));
      for (const userId of [randomUUID(), 'not-a-uuid']) {
        expect(errorOf(await call(SET_ROLE, { userId, role: 'LIBRARIAN' }, byAdmin)).code).toBe('NOT_FOUND');
      }
    });
  });

  describe('the AuthPayload user', () => {
    it('shows the signed-in user their own email, but other users in the same request stay private', async () => {
      const payload = await registered();
      const other = await registered();
      const res = await call<{ login: Payload }>(
        `mutation($email: String!, $password: String!) { login(email: $email, password: $password) { user { email } } }`,
        { email: payload.user.email, password: PASSWORD },
      );
      expect(res.data?.login.user.email).toBe(payload.user.email);
      const entities = await call<{ _entities: { email: string | null }[] }>(
        'query($reps: [_Any!]!) { _entities(representations: $reps) { ... on User { email } } }',
        { reps: [{ __typename: 'User', id: other.user.id }] },
      );
      expect(entities.data?._entities).toEqual([{ email: null }]);
    });
  });

  describe('secrets', () => {
    it('has no field that could return a password or its hash', async () => {
      const res = await call(`{ me { id passwordHash } }`);
      expect(errorOf(res).code).toBe('GRAPHQL_VALIDATION_FAILED');
    });

    it('never put a password or a hash in any response or log line of this suite', async () => {
      const rows = await users.database.prisma.user.findMany({ omit: { passwordHash: false } });
      const hashes = rows.flatMap((row) => (row.passwordHash ? [row.passwordHash] : []));
      expect(hashes.length).toBeGreaterThan(20);
      expect(bodies.length).toBeGreaterThan(100);
      expect(passwords.size).toBeGreaterThan(5);
      const texts = [...bodies, ...logLines.map((l) => l.text)];
      for (const secret of [...passwords, ...hashes]) {
        expect(texts.filter((text) => text.includes(secret))).toEqual([]);
      }
      expect(texts.filter((text) => text.includes('scrypt$'))).toEqual([]);
    });
  });
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('accounts (PGlite)', () => {
  accountSuite(() => ({}));
});

describePg('accounts (PostgreSQL)', () => {
  const databaseName = freshDatabaseName('accounts');
  afterAll(() => dropTestDatabase(databaseName));
  describe('fresh database', () => {
    accountSuite(() => ({ databaseUrl: TEST_DATABASE_URL, databaseName }));
  });
});

describeRedis('accounts with sessions and sign-in counters in Redis (PGlite)', () => {
  let users: UsersHandle;
  let auth: AuthServices;
  const clock = new FixedClock(new Date('2030-07-01T09:00:00.000Z'));

  beforeAll(async () => {
    auth = await createAuthServices({ redisUrl: TEST_REDIS_URL, prefix: freshRedisPrefix('users-accounts'), clock });
    users = await start({ clock, auth });
  });
  afterAll(async () => {
    await users.stop();
    await auth.dispose();
  });

  const signIn = async (query: string, variables: Record<string, unknown>, field: 'register' | 'login' | 'refreshSession') => {
    const res = await graphql<Record<string, Payload>>(users.url, query, variables, as(null, '192.0.2.1'));
    return { res, payload: res.data?.[field] };
  };
  const viewerOf = (payload: Payload) => verifyAccessToken(auth.keys, payload.accessToken, clock.now());

  it('rotates, detects reuse, logs out and ends sessions on a role change with the Redis store', async () => {
    const email = freshEmail('redis');
    const { payload: registered } = await signIn(REGISTER, { input: { email, password: PASSWORD, name: 'Rhea Redis' } }, 'register');
    const { payload: second } = await signIn(LOGIN, { email, password: PASSWORD }, 'login');
    const { payload: rotated } = await signIn(REFRESH, { token: registered!.refreshToken }, 'refreshSession');
    expect((await viewerOf(rotated!)).sessionId).toBe((await viewerOf(registered!)).sessionId);

    const reuse = await signIn(REFRESH, { token: registered!.refreshToken }, 'refreshSession');
    expect(errorOf(reuse.res).code).toBe('UNAUTHENTICATED');
    expect(errorOf((await signIn(REFRESH, { token: rotated!.refreshToken }, 'refreshSession')).res).code).toBe('UNAUTHENTICATED');
    expect(await auth.sessions.listForUser(registered!.user.id, clock.now())).toHaveLength(1);

    const logout = await graphql(users.url, LOGOUT, {}, as(await viewerOf(second!)));
    expect(logout).toEqual({ data: { logout: true } });
    expect(await auth.sessions.listForUser(registered!.user.id, clock.now())).toEqual([]);

    await signIn(LOGIN, { email, password: PASSWORD }, 'login');
    const admin = await users.users.create({ email: freshEmail('redis-admin'), name: 'Redis Admin', role: 'ADMIN' });
    const changed = await graphql(
      users.url,
      SET_ROLE,
      { userId: registered!.user.id, role: 'LIBRARIAN' },
      as({ userId: admin.id, role: 'ADMIN' }),
    );
    expect(changed.errors).toBeUndefined();
    expect(await auth.sessions.listForUser(registered!.user.id, clock.now())).toEqual([]);
  });

  it('counts failed sign-ins in Redis and locks the account out after 5', async () => {
    const email = freshEmail('redis-lock');
    await signIn(REGISTER, { input: { email, password: PASSWORD, name: 'Locked Out' } }, 'register');
    const firstFailure = Date.now();
    for (let i = 0; i < 5; i++) {
      const res = await graphql(users.url, LOGIN, { email, password: 'wrong password!' }, as(null, freshAddress()));
      expect(errorOf(res).code).toBe('UNAUTHENTICATED');
    }
    expect(await auth.attempts.count(`login:account:${sha256(email)}`)).toBe(5);
    const locked = await graphql(users.url, LOGIN, { email, password: PASSWORD }, as(null, freshAddress()));
    expect(errorOf(locked)).toMatchObject({ code: 'RATE_LIMITED', message: 'Too many failed sign-in attempts. Try again in 15 minutes.' });
    // Redis keeps the window on its own clock, opened at the first failure: what is left of the 15 minutes
    // is 900 s less the time the attempts took (seconds each on a busy machine, scrypt being slow on purpose).
    const elapsed = Math.ceil((Date.now() - firstFailure) / 1000);
    expect(errorOf(locked).extensions.retryAfterSeconds).toBeGreaterThanOrEqual(900 - elapsed - 1);
    expect(errorOf(locked).extensions.retryAfterSeconds).toBeLessThanOrEqual(900);
  });
});

import { createHash } from 'node:crypto';
import {
  appError,
  badInput,
  conflict,
  ErrorCode,
  hashPassword,
  issueAccessToken,
  isUuid,
  notFound,
  requireRole,
  requireViewer,
  SESSION_INVALID_MESSAGE,
  unauthenticated,
  verifyPassword,
  type AuthServices,
  type Clock,
  type Logger,
  type Role,
  type Viewer,
} from '@shelfwise/kit';
import type { UserRepository } from './data/UserRepository.js';
import type { AuthPayloadModel, UserModel } from './mappers.js';
import { checkEmail, checkName, checkNewPassword, normalizeEmail } from './rules.js';

/** The one answer to a failed sign-in, whether the email is unknown or the password wrong. */
export const LOGIN_FAILED_MESSAGE = 'That email and password do not match an account.';
/** Failed sign-ins are counted over this window (fixed: it opens at the first failure). */
export const LOGIN_WINDOW_SECONDS = 15 * 60;
/** Failures for one email within the window after which sign-ins to it are refused until it ends. */
export const MAX_FAILURES_PER_ACCOUNT = 5;
/** Failures from one client address within the window after which its sign-ins are refused. */
export const MAX_FAILURES_PER_ADDRESS = 20;

/** The first admin, created at start when no account has this email (SHELFWISE_ADMIN_EMAIL / _PASSWORD). */
export interface AdminAccount {
  email: string;
  password: string;
}

export const DEFAULT_ADMIN_EMAIL = 'admin@shelfwise.local';
export const DEFAULT_ADMIN_PASSWORD = 'change-me-shelfwise-admin';
const ADMIN_NAME = 'Administrator';

export interface NewAccount {
  email: string;
  password: string;
  name: string;
}

export interface ProfileChanges {
  name?: string | null;
  email?: string | null;
}

/**
 * Accounts and sessions: registration, sign-in with lockout, refresh-token rotation, sign-out, profile
 * and role changes. The rules live here; the repository does the database work, the kit's AuthServices
 * the tokens, sessions and failure counters. Passwords and hashes are never logged or returned.
 */
export class AccountService {
  private readonly users: UserRepository;
  private readonly auth: AuthServices;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(options: { users: UserRepository; auth: AuthServices; clock: Clock; logger: Logger }) {
    this.users = options.users;
    this.auth = options.auth;
    this.clock = options.clock;
    this.logger = options.logger;
  }

  /** Creates a PATRON account and signs it in. */
  async register(input: NewAccount): Promise<AuthPayloadModel> {
    const name = checkName(input.name);
    const email = checkEmail(input.email);
    const password = checkNewPassword(input.password, email);
    // Checked before hashing so a taken email costs no key derivation; the unique index still decides.
    if (await this.users.findByEmail(email)) {
      throw conflict(`An account with the email ${email} already exists. Sign in instead, or use another email.`);
    }
    const user = await this.users.create({ email, name, role: 'PATRON', passwordHash: await hashPassword(password) });
    this.logger.info({ userId: user.id }, 'account registered');
    return this.signIn(user);
  }

  /**
   * Signs in. Unknown email and wrong password get the same error after the same key derivation.
   * Locked-out accounts and addresses are refused before any password is checked.
   */
  async login(emailInput: string, password: string, clientAddress: string | null): Promise<AuthPayloadModel> {
    const email = normalizeEmail(emailInput);
    // The email is hashed into the key: counters exist for addresses nobody registered, and Redis keys
    // should not hold them in clear.
    const accountKey = `login:account:${createHash('sha256').update(email, 'utf8').digest('hex')}`;
    const addressKey = clientAddress ? `login:address:${clientAddress}` : null;
    await this.refuseWhenLockedOut(accountKey, addressKey, clientAddress);

    const credentials = await this.users.findCredentials(email);
    const matches = await verifyPassword(password, credentials?.passwordHash ?? null);
    if (!credentials || !matches) {
      await Promise.all([
        this.auth.attempts.hit(accountKey, LOGIN_WINDOW_SECONDS),
        addressKey ? this.auth.attempts.hit(addressKey, LOGIN_WINDOW_SECONDS) : undefined,
      ]);
      this.logger.info({ clientAddress }, 'sign-in refused: email and password do not match');
      throw unauthenticated(LOGIN_FAILED_MESSAGE);
    }
    // Only the account's counter: resetting the address's would let one valid account reset the
    // counter of an address trying passwords against many others.
    await this.auth.attempts.reset(accountKey);
    this.logger.info({ userId: credentials.user.id }, 'signed in');
    return this.signIn(credentials.user);
  }

  /** Rotates the refresh token and issues a new access token carrying the session's role. */
  async refresh(refreshToken: string): Promise<AuthPayloadModel> {
    const now = this.clock.now();
    const { session, refreshToken: next } = await this.auth.sessions.rotate(refreshToken, now);
    const user = await this.users.findById(session.userId);
    // Role changes end sessions (setUserRole); should that have failed half-way, a session whose role is
    // no longer the user's must not live on through refreshes.
    if (!user || user.role !== session.role) {
      await this.auth.sessions.revoke(session.id);
      this.logger.warn({ sessionId: session.id, userId: session.userId }, 'session ended: the account or its role changed');
      throw unauthenticated(SESSION_INVALID_MESSAGE);
    }
    const access = await issueAccessToken(this.auth.keys, { userId: user.id, role: session.role, sessionId: session.id }, now);
    return { accessToken: access.token, refreshToken: next, expiresAt: access.expiresAt, user };
  }

  /** Ends the viewer's current session. True when a live session was ended. */
  async logout(viewer: Viewer | null): Promise<boolean> {
    const v = requireViewer(viewer);
    if (!v.sessionId) return false;
    const session = await this.auth.sessions.get(v.sessionId, this.clock.now());
    if (!session || session.userId !== v.userId) return false;
    await this.auth.sessions.revoke(session.id);
    return true;
  }

  /** Ends every session of the viewer, this one included; returns how many. */
  async logoutEverywhere(viewer: Viewer | null): Promise<number> {
    const v = requireViewer(viewer);
    const ended = await this.auth.sessions.revokeAllForUser(v.userId);
    this.logger.info({ userId: v.userId, ended }, 'signed out everywhere');
    return ended;
  }

  /** Changes the viewer's own name and/or email. */
  async updateProfile(viewer: Viewer | null, changes: ProfileChanges): Promise<UserModel> {
    const v = requireViewer(viewer);
    const data: { name?: string; email?: string } = {};
    if (changes.name != null) data.name = checkName(changes.name);
    if (changes.email != null) data.email = checkEmail(changes.email);
    if (data.name === undefined && data.email === undefined) throw badInput('Give a new name or a new email to change.');
    return this.users.updateProfile(v.userId, data);
  }

  /**
   * Gives a user another role (admins only). The user's sessions end, so the new role applies from
   * their next sign-in; access tokens already issued stop working as soon as the router sees the
   * session gone.
   */
  async setUserRole(viewer: Viewer | null, userId: string, role: Role): Promise<UserModel> {
    const admin = requireRole(viewer, 'ADMIN');
    const { user, previous } = await this.users.setRole(userId, role);
    if (previous !== role) {
      const ended = await this.auth.sessions.revokeAllForUser(user.id);
      this.logger.info({ by: admin.userId, userId: user.id, from: previous, to: role, sessionsEnded: ended }, 'role changed');
    }
    return user;
  }

  /** Sets a user's password (seeding and operations; the rules of registration apply). */
  async setPassword(userId: string, password: string): Promise<void> {
    const user = isUuid(userId) ? await this.users.findById(userId) : null;
    if (!user) throw notFound(`There is no user with id ${userId}.`);
    await this.users.setPasswordHash(user.id, await hashPassword(checkNewPassword(password, user.email)));
  }

  /**
   * Creates the first admin unless an account with that email exists; an existing account is never
   * changed (neither its password nor its role). Returns whether it was created.
   */
  async ensureAdmin(admin: AdminAccount): Promise<boolean> {
    let email: string;
    try {
      email = checkEmail(admin.email);
      checkNewPassword(admin.password, email);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`The first admin account (SHELFWISE_ADMIN_EMAIL / SHELFWISE_ADMIN_PASSWORD) is not acceptable: ${reason}`);
    }
    const existing = await this.users.findCredentials(email);
    if (existing) {
      if (existing.user.role !== 'ADMIN') {
        this.logger.warn(
          { email, role: existing.user.role },
          'SHELFWISE_ADMIN_EMAIL belongs to an account that is not an admin; it was left as it is',
        );
      } else if (await verifyPassword(DEFAULT_ADMIN_PASSWORD, existing.passwordHash)) {
        // Also when SHELFWISE_ADMIN_PASSWORD is set now: it does not change an existing account.
        this.warnDefaultPassword(email, admin.password !== DEFAULT_ADMIN_PASSWORD);
      }
      return false;
    }
    const created = await this.users.createIfAbsent({
      email,
      name: ADMIN_NAME,
      role: 'ADMIN',
      passwordHash: await hashPassword(admin.password),
    });
    if (created) {
      this.logger.info({ email }, 'created the first admin account');
      if (admin.password === DEFAULT_ADMIN_PASSWORD) this.warnDefaultPassword(email, false);
    }
    return created;
  }

  /** The default password is public (docs/identity.md): say so loudly, without repeating it. */
  private warnDefaultPassword(email: string, passwordSetTooLate: boolean): void {
    this.logger.warn(
      { email },
      passwordSetTooLate
        ? 'the first admin account still has the documented default password: SHELFWISE_ADMIN_PASSWORD only applies when the account is created. Delete that account from the users database and restart to create it with SHELFWISE_ADMIN_PASSWORD (docs/identity.md)'
        : 'the first admin account has the documented default password, so anyone who read the docs can sign in as admin: set SHELFWISE_ADMIN_PASSWORD',
    );
  }

  private async refuseWhenLockedOut(accountKey: string, addressKey: string | null, clientAddress: string | null): Promise<void> {
    const { attempts } = this.auth;
    const [accountFailures, addressFailures] = await Promise.all([attempts.count(accountKey), addressKey ? attempts.count(addressKey) : 0]);
    const locked = [
      ...(accountFailures >= MAX_FAILURES_PER_ACCOUNT ? [accountKey] : []),
      ...(addressKey && addressFailures >= MAX_FAILURES_PER_ADDRESS ? [addressKey] : []),
    ];
    if (locked.length === 0) return;
    const retryAfterSeconds = Math.max(1, ...(await Promise.all(locked.map((key) => attempts.retryAfter(key)))));
    const minutes = Math.ceil(retryAfterSeconds / 60);
    this.logger.warn(
      { clientAddress, account: locked.includes(accountKey), address: addressKey !== null && locked.includes(addressKey) },
      'sign-in refused: locked out',
    );
    throw appError(
      ErrorCode.RATE_LIMITED,
      `Too many failed sign-in attempts. Try again in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`,
      { retryAfterSeconds },
    );
  }

  /** Opens a session for `user` and issues its first tokens. */
  private async signIn(user: UserModel): Promise<AuthPayloadModel> {
    const now = this.clock.now();
    const { session, refreshToken } = await this.auth.sessions.create({ userId: user.id, role: user.role }, now);
    const access = await issueAccessToken(this.auth.keys, { userId: user.id, role: user.role, sessionId: session.id }, now);
    return { accessToken: access.token, refreshToken, expiresAt: access.expiresAt, user };
  }
}

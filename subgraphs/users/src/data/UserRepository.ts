import DataLoader from 'dataloader';
import {
  badInput,
  conflict,
  type Connection,
  decodeCursor,
  encodeCursor,
  isTimeIdKey,
  isUuid,
  notFound,
  type TimeIdKey,
  toConnection,
} from '@shelfwise/kit';
import { Prisma, type Role } from '../generated/prisma/client.js';
import type { UserModel } from '../mappers.js';
import { checkEmail, checkName, normalizeEmail } from '../rules.js';
import type { UsersPrisma } from './client.js';

export { normalizeEmail };

export interface UserSearch {
  /** Part of a name or an email, matched case-insensitively. */
  search?: string | null;
  first: number;
  after?: string | null;
}

export interface NewUser {
  email: string;
  name: string;
  role?: Role;
  /** A hashPassword() result; without one the account cannot sign in until a password is set. */
  passwordHash?: string | null;
}

/** What a sign-in needs: the account and its stored hash (null when no password was ever set). */
export interface Credentials {
  user: UserModel;
  passwordHash: string | null;
}

const CURSOR_KIND = 'users';
const MAX_SEARCH_LENGTH = 200;

/**
 * The only code that touches the users database. Loaders are per request (created in the context), so
 * N references to users in one request cost one query.
 */
export class UserRepository {
  constructor(private readonly prisma: UsersPrisma) {}

  /** Batches user lookups by id; ids that are not UUIDs resolve to null without reaching the database. */
  userLoader(): DataLoader<string, UserModel | null> {
    return new DataLoader(async (ids) => {
      const valid = ids.filter(isUuid);
      const rows = valid.length > 0 ? await this.prisma.user.findMany({ where: { id: { in: valid } } }) : [];
      const byId = new Map(rows.map((u) => [u.id, u]));
      return ids.map((id) => byId.get(id) ?? null);
    });
  }

  /** Users ordered by (createdAt, id), oldest first, optionally narrowed by name or email. */
  async search(input: UserSearch): Promise<Connection<UserModel>> {
    const text = input.search?.trim() ?? '';
    if (text.length > MAX_SEARCH_LENGTH) throw badInput(`A search is at most ${MAX_SEARCH_LENGTH} characters.`);
    const where: Prisma.UserWhereInput = text
      ? { OR: [{ name: { contains: text, mode: 'insensitive' } }, { email: { contains: text, mode: 'insensitive' } }] }
      : {};
    const key = decodeCursor(CURSOR_KIND, input.after, isUserKey);
    const pageWhere: Prisma.UserWhereInput = key ? { AND: [where, afterKey(key)] } : where;
    const [rows, totalCount] = await Promise.all([
      this.prisma.user.findMany({ where: pageWhere, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: input.first + 1 }),
      this.prisma.user.count({ where }),
    ]);
    return toConnection(rows, input.first, totalCount, (u) =>
      encodeCursor(CURSOR_KIND, [u.createdAt.toISOString(), u.id] satisfies TimeIdKey),
    );
  }

  /**
   * Adds a user (registration, seeding and tests). The email is stored trimmed and lower-case; a second
   * account with the same email is a CONFLICT.
   */
  async create(data: NewUser): Promise<UserModel> {
    const email = checkEmail(data.email);
    const name = checkName(data.name);
    try {
      return await this.prisma.user.create({
        data: { email, name, role: data.role ?? 'PATRON', passwordHash: data.passwordHash ?? null },
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw emailTaken(email);
      throw err;
    }
  }

  /**
   * Adds the user unless an account with that email exists, which is then left exactly as it is.
   * True when it was added. Safe when several instances start at once (INSERT … ON CONFLICT DO NOTHING).
   */
  async createIfAbsent(data: NewUser): Promise<boolean> {
    const email = checkEmail(data.email);
    const name = checkName(data.name);
    const { count } = await this.prisma.user.createMany({
      data: [{ email, name, role: data.role ?? 'PATRON', passwordHash: data.passwordHash ?? null }],
      skipDuplicates: true,
    });
    return count === 1;
  }

  async findById(id: string): Promise<UserModel | null> {
    return isUuid(id) ? this.prisma.user.findUnique({ where: { id } }) : null;
  }

  async findByEmail(email: string): Promise<UserModel | null> {
    return this.prisma.user.findUnique({ where: { email: normalizeEmail(email) } });
  }

  /** The account with this email and its password hash: the one query that reads a hash. */
  async findCredentials(email: string): Promise<Credentials | null> {
    const row = await this.prisma.user.findUnique({ where: { email: normalizeEmail(email) }, omit: { passwordHash: false } });
    if (!row) return null;
    const { passwordHash, ...user } = row;
    return { user, passwordHash };
  }

  /** Replaces a user's password hash. */
  async setPasswordHash(id: string, passwordHash: string): Promise<void> {
    const { count } = await this.prisma.user.updateMany({ where: { id }, data: { passwordHash } });
    if (count === 0) throw notFound(`There is no user with id ${id}.`);
  }

  /** Changes name and/or email (already checked by the caller); a taken email is a CONFLICT. */
  async updateProfile(id: string, data: { name?: string; email?: string }): Promise<UserModel> {
    if (!isUuid(id)) throw notFound(`There is no user with id ${id}.`);
    try {
      return await this.prisma.user.update({ where: { id }, data });
    } catch (err) {
      if (isUniqueViolation(err) && data.email !== undefined) throw emailTaken(data.email);
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025') throw notFound(`There is no user with id ${id}.`);
      throw err;
    }
  }

  /**
   * Gives a user a role and returns the user with the role they had before. Refuses (CONFLICT) to take
   * the role away from the last admin. Every admin row is locked first, so two admins demoting each
   * other at the same moment cannot both succeed: the second one finds only itself left (PostgreSQL
   * re-reads the locked rows after the first commits).
   */
  async setRole(id: string, role: Role): Promise<{ user: UserModel; previous: Role }> {
    if (!isUuid(id)) throw notFound(`There is no user with id ${id}. Check the user id.`);
    return this.prisma.$transaction(async (tx) => {
      const admins = await tx.$queryRaw<{ id: string }[]>`SELECT "id"::text AS "id" FROM "User" WHERE "role" = 'ADMIN' FOR UPDATE`;
      const target = await tx.user.findUnique({ where: { id } });
      if (!target) throw notFound(`There is no user with id ${id}. Check the user id.`);
      if (target.role === role) return { user: target, previous: target.role };
      if (target.role === 'ADMIN' && !admins.some((a) => a.id !== target.id)) {
        throw conflict(
          `${target.name} is the only admin, and the library needs at least one. Make another user an admin first, then change this role.`,
        );
      }
      const user = await tx.user.update({ where: { id: target.id }, data: { role } });
      return { user, previous: target.role };
    });
  }

  async count(): Promise<number> {
    return this.prisma.user.count();
  }
}

function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}

function emailTaken(email: string) {
  return conflict(`An account with the email ${email} already exists. Sign in instead, or use another email.`);
}

/** A (createdAt, id) cursor key whose id could exist (a malformed one would make Postgres reject the query). */
const isUserKey = (value: unknown): value is TimeIdKey => isTimeIdKey(value) && isUuid(value[1]);

/** Rows strictly after the cursor in (createdAt, id) order. */
function afterKey([createdAt, id]: TimeIdKey): Prisma.UserWhereInput {
  const at = new Date(createdAt);
  return { OR: [{ createdAt: { gt: at } }, { createdAt: at, id: { gt: id } }] };
}

import DataLoader from 'dataloader';
import {
  badInput,
  conflict,
  type Connection,
  decodeCursor,
  encodeCursor,
  isTimeIdKey,
  isUuid,
  type TimeIdKey,
  toConnection,
} from '@shelfwise/kit';
import { Prisma, type Role } from '../generated/prisma/client.js';
import type { UserModel } from '../mappers.js';
import type { PrismaClient } from './client.js';

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
}

const CURSOR_KIND = 'users';
const MAX_SEARCH_LENGTH = 200;
const MAX_NAME_LENGTH = 200;
/** Deliberately loose: one @, something on each side, a dot in the domain. Real checks happen by mail. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * The only code that touches the users database. Loaders are per request (created in the context), so
 * N references to users in one request cost one query.
 */
export class UserRepository {
  constructor(private readonly prisma: PrismaClient) {}

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
   * Adds a user (tests and seeding until registration arrives). The email is stored trimmed and
   * lower-case; a second account with the same email is a CONFLICT.
   */
  async create(data: NewUser): Promise<UserModel> {
    const email = normalizeEmail(data.email);
    const name = data.name.trim();
    if (!EMAIL.test(email)) throw badInput(`"${data.email}" is not an email address.`);
    if (name === '' || name.length > MAX_NAME_LENGTH) throw badInput(`A name must be 1 to ${MAX_NAME_LENGTH} characters.`);
    try {
      return await this.prisma.user.create({ data: { email, name, role: data.role ?? 'PATRON' } });
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') {
        throw conflict(`An account with the email ${email} already exists.`);
      }
      throw err;
    }
  }

  async count(): Promise<number> {
    return this.prisma.user.count();
  }
}

/** How emails are stored and compared: trimmed, lower-case. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** A (createdAt, id) cursor key whose id could exist (a malformed one would make Postgres reject the query). */
const isUserKey = (value: unknown): value is TimeIdKey => isTimeIdKey(value) && isUuid(value[1]);

/** Rows strictly after the cursor in (createdAt, id) order. */
function afterKey([createdAt, id]: TimeIdKey): Prisma.UserWhereInput {
  const at = new Date(createdAt);
  return { OR: [{ createdAt: { gt: at } }, { createdAt: at, id: { gt: id } }] };
}

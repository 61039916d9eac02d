import DataLoader from 'dataloader';
import type { Role } from '../generated/prisma/client.js';
import type { LoanPolicyModel } from '../mappers.js';
import type { PolicyChanges } from '../policy.js';
import type { PrismaClient } from './client.js';

/**
 * The lending rules of each role. The first migration inserts a row per role with the defaults, so a
 * role always has a policy; an admin changes it with `updateLoanPolicy`. Read fresh on every command (the
 * table has three rows), so a change made through another instance applies at once.
 */
export class PolicyRepository {
  /**
   * @param maxFineCents the largest single fine payments accepts (SHELFWISE_MAX_FINE_CENTS): no policy's
   *   fine cap per loan may exceed it (validatePolicyChanges).
   */
  constructor(
    private readonly prisma: PrismaClient,
    readonly maxFineCents: number,
  ) {}

  /** The lending rules of every role, in role order (PATRON, LIBRARIAN, ADMIN). */
  async all(): Promise<LoanPolicyModel[]> {
    return this.prisma.loanPolicy.findMany({ orderBy: { role: 'asc' } });
  }

  /** The rules of one role. */
  async get(role: Role): Promise<LoanPolicyModel> {
    return this.prisma.loanPolicy.findUniqueOrThrow({ where: { role } });
  }

  /** Per request: every role's policy in one query, however many loans ask. */
  loader(): DataLoader<Role, LoanPolicyModel> {
    return new DataLoader(async (roles) => {
      const rows = await this.all();
      const byRole = new Map(rows.map((p) => [p.role, p]));
      return roles.map((role) => byRole.get(role) ?? new Error(`No loan policy for ${role}.`));
    });
  }

  async update(role: Role, changes: PolicyChanges): Promise<LoanPolicyModel> {
    return this.prisma.loanPolicy.update({ where: { role }, data: changes });
  }
}

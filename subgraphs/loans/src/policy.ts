import { badInput } from '@shelfwise/kit';
import type { LoanPolicyModel } from './mappers.js';

/** One day in milliseconds: loan days and overdue days are whole days of 24 hours on the service clock. */
export const DAY_MS = 86_400_000;

/** The policy fields an admin may change, with the range each must stay in. */
export const POLICY_LIMITS = {
  loanDays: [1, 365],
  maxRenewals: [0, 20],
  maxActiveLoans: [0, 100],
  finePerOverdueDayCents: [0, 10_000],
  maxFinePerLoanCents: [0, 1_000_000],
  holdPickupDays: [1, 60],
  maxBalanceCents: [0, 1_000_000],
} as const satisfies Record<string, readonly [number, number]>;

export type PolicyField = keyof typeof POLICY_LIMITS;
export type PolicyChanges = Partial<Record<PolicyField, number>>;

/** How people call each field (the admin screen's labels), for messages; the API key follows in quotes. */
export const POLICY_LABELS: Record<PolicyField, string> = {
  loanDays: 'Loan days',
  maxRenewals: 'Maximum renewals',
  maxActiveLoans: 'Maximum active loans',
  finePerOverdueDayCents: 'Fine per overdue day (cents)',
  maxFinePerLoanCents: 'Maximum fine per loan (cents)',
  holdPickupDays: 'Hold pickup days',
  maxBalanceCents: 'Maximum balance to borrow (cents)',
};

/**
 * Checks an admin's policy changes: every given field a whole number in its range; null means "leave it".
 * The fine cap per loan may not exceed `maxFineCents`, the largest single fine payments accepts
 * (SHELFWISE_MAX_FINE_CENTS), or the fines of such loans could never be charged. Returns only the fields
 * to change. BAD_USER_INPUT names the field (label and key) and its range.
 */
export function validatePolicyChanges(
  input: Partial<Record<PolicyField, number | null | undefined>>,
  maxFineCents: number = POLICY_LIMITS.maxFinePerLoanCents[1],
): PolicyChanges {
  const changes: PolicyChanges = {};
  for (const field of Object.keys(POLICY_LIMITS) as PolicyField[]) {
    const value = input[field];
    if (value === null || value === undefined) continue;
    const [min, limit] = POLICY_LIMITS[field];
    const max = field === 'maxFinePerLoanCents' ? Math.min(limit, maxFineCents) : limit;
    if (!Number.isInteger(value) || value < min || value > max) {
      const why =
        field === 'maxFinePerLoanCents' && max < limit
          ? ' (no single fine may be larger: SHELFWISE_MAX_FINE_CENTS, set by the operator)'
          : '';
      throw badInput(`${POLICY_LABELS[field]} ("${field}") must be a whole number from ${min} to ${max}${why}; got ${value}.`, { field });
    }
    changes[field] = value;
  }
  if (Object.keys(changes).length === 0) throw badInput('Give at least one policy field to change.');
  return changes;
}

/** When a copy borrowed at `from` is due: `loanDays` whole days later. */
export function dueDate(from: Date, policy: Pick<LoanPolicyModel, 'loanDays'>): Date {
  return new Date(from.getTime() + policy.loanDays * DAY_MS);
}

/**
 * A renewal's new due date: `loanDays` from the renewal, never earlier than the current due date (so
 * renewing early never shortens a loan, and a policy made shorter since checkout never cuts it).
 */
export function renewedDueDate(current: Date, now: Date, policy: Pick<LoanPolicyModel, 'loanDays'>): Date {
  return new Date(Math.max(current.getTime(), dueDate(now, policy).getTime()));
}

/** Full days between the due date and `at` (0 when not late): a copy 23 hours late is not fined yet. */
export function daysOverdue(dueAt: Date, at: Date): number {
  return Math.max(0, Math.floor((at.getTime() - dueAt.getTime()) / DAY_MS));
}

/** The overdue fine of a copy due at `dueAt` and back at `at`: full days late × the day rate, capped. */
export function overdueFine(
  dueAt: Date,
  at: Date,
  policy: Pick<LoanPolicyModel, 'finePerOverdueDayCents' | 'maxFinePerLoanCents'>,
): number {
  return Math.min(daysOverdue(dueAt, at) * policy.finePerOverdueDayCents, policy.maxFinePerLoanCents);
}

import { badInput, forbidden, isUuid, notFound, requireViewer, hasRole, type Viewer } from '@shelfwise/kit';
import type { Context } from '../context.js';
import type { MutationResolvers } from '../generated/graphql.js';
import type { LoanModel } from '../mappers.js';
import { validatePolicyChanges } from '../policy.js';

/** The longest barcode a label carries. */
const MAX_BARCODE_LENGTH = 64;

function requireBarcode(barcode: string): string {
  const trimmed = barcode.trim();
  if (trimmed === '' || trimmed.length > MAX_BARCODE_LENGTH)
    throw badInput(`"barcode" must be the 1 to ${MAX_BARCODE_LENGTH} characters printed on the copy's label.`, { field: 'barcode' });
  return trimmed;
}

/** The loan `loanId`, when the viewer is its borrower or staff: NOT_FOUND / FORBIDDEN otherwise. */
async function ownLoan(loanId: string, viewer: Viewer, { loans }: Context): Promise<LoanModel> {
  if (!isUuid(loanId)) throw badInput(`"${loanId}" is not a valid loan id.`, { field: 'loanId' });
  const loan = await loans.find(loanId);
  if (!loan) throw notFound('There is no loan with this id. Check the id in your list of loans.', { field: 'loanId' });
  if (loan.userId !== viewer.userId && !hasRole(viewer, 'LIBRARIAN')) throw forbidden('You can only return or renew your own loans.');
  return loan;
}

// Who may call each mutation is declared in access.ts; the owner checks that need the loan are here.
export const Mutation: MutationResolvers = {
  borrowBook: (_parent, { bookId }, { viewer, circulation }) => {
    const v = requireViewer(viewer);
    if (!isUuid(bookId)) throw badInput(`"${bookId}" is not a valid book id.`, { field: 'bookId' });
    return circulation.borrow({ userId: v.userId, role: v.role, bookId, self: true });
  },
  checkOutCopy: async (_parent, { barcode, userId }, { viewer, circulation, users }) => {
    const v = requireViewer(viewer);
    if (!isUuid(userId)) throw badInput(`"${userId}" is not a valid user id.`, { field: 'userId' });
    const code = requireBarcode(barcode);
    // The desk lends only to an account that exists, under that account's own role's policy.
    const account = userId === v.userId ? { id: v.userId, role: v.role } : await users.account(userId);
    if (!account) throw notFound('No account has this user id. Find the patron with the user search and try again.', { field: 'userId' });
    return circulation.borrow({ userId, role: account.role, barcode: code, self: userId === v.userId });
  },
  returnLoan: async (_parent, { loanId }, context) => {
    const loan = await ownLoan(loanId, requireViewer(context.viewer), context);
    return context.circulation.returnLoan(loan);
  },
  checkInCopy: async (_parent, { barcode }, { loans, circulation }) => {
    const code = requireBarcode(barcode);
    const loan = await loans.findByBarcode(code);
    if (!loan)
      throw notFound(`No loan has the copy with barcode "${code}" out. Check the label, or shelve the copy.`, { field: 'barcode' });
    return circulation.returnLoan(loan);
  },
  renewLoan: async (_parent, { loanId }, context) => {
    const loan = await ownLoan(loanId, requireViewer(context.viewer), context);
    return context.circulation.renew(loan);
  },
  updateLoanPolicy: (_parent, { role, input }, { policies }) => policies.update(role, validatePolicyChanges(input, policies.maxFineCents)),
};

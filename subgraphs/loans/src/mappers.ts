/** The parent types resolvers receive for each GraphQL type (codegen.ts reads the `…Model` names). */
import type { Connection } from '@shelfwise/kit';
import type { Loan, LoanPolicy } from './generated/prisma/client.js';

export type LoanModel = Loan;
export type LoanConnectionModel = Connection<Loan>;
export type LoanPolicyModel = LoanPolicy;
/** Entities of other subgraphs are references: only the id, resolved by their owner through the router. */
export type UserModel = { id: string };
export type BookModel = { id: string };
export type CopyModel = { id: string };

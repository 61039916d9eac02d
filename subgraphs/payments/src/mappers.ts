/** The parent types resolvers receive for each GraphQL type (codegen.ts reads the `…Model` names). */
import type { Connection } from '@shelfwise/kit';
import type { Fine, FineWaiver, Payment } from './generated/prisma/client.js';

export type FineModel = Fine;
export type PaymentModel = Payment;
/** An entry of the waiver audit trail (`userId` is the patron whose fine it was). */
export type FineWaiverModel = FineWaiver;
export type FineWaiverConnectionModel = Connection<FineWaiver>;
/** A user is owned by the users service: this service only knows the id and adds fields to it. */
export type UserModel = { id: string };
/** A loan is owned by the loans service: referenced by id only. */
export type LoanModel = { id: string };

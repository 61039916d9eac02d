import { randomUUID } from 'node:crypto';
import type { PaymentMethod } from './generated/prisma/client.js';

/** What a provider is asked to take. Amounts are whole cents of `currency`. */
export interface ChargeRequest {
  /** The patron paying. */
  userId: string;
  amountCents: number;
  currency: string;
  method: PaymentMethod;
  /**
   * Stable for every retry of one payment (the patron's id and their idempotency key). A provider that
   * talks to a card processor passes it on as the processor's own idempotency key, so a retried charge
   * is never taken twice.
   */
  idempotencyKey: string;
  /** The librarian taking the money at the desk; null when the patron pays themselves. */
  recordedById: string | null;
}

/** The provider's proof that the money was taken. */
export interface ChargeReceipt {
  /** A receipt number or the processor's charge id; stored on the Payment. */
  reference: string;
}

/**
 * Where money is taken. Shelfwise records a payment (and marks its fines PAID) only after `charge`
 * resolves, inside the same database transaction that holds the fines, so a refused charge (throw a
 * GraphQLError with a stable code) records nothing.
 *
 * The one built-in provider is {@link DeskPaymentProvider}. An online card provider implements this
 * interface too (e.g. creating and confirming a payment intent with the processor, keyed by
 * `idempotencyKey`) and is passed to the payments subgraph's `start({ provider })`; see docs/api.md,
 * "Fines and payments".
 */
export interface PaymentProvider {
  /** Stored on each Payment, e.g. `desk`. */
  readonly name: string;
  charge(request: ChargeRequest): Promise<ChargeReceipt>;
}

/**
 * The library desk: cash or a card taken in person, on the library's own till or card terminal. Nothing
 * leaves Shelfwise: the payment is recorded as the money changes hands, and the receipt number it returns
 * is the one printed for the patron.
 */
export class DeskPaymentProvider implements PaymentProvider {
  readonly name = 'desk';

  charge(_request: ChargeRequest): Promise<ChargeReceipt> {
    return Promise.resolve({ reference: `desk-${randomUUID()}` });
  }
}

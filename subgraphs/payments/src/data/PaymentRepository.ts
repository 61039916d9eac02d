import { createHash } from 'node:crypto';
import DataLoader from 'dataloader';
import { appError, badInput, type Clock, conflict, ErrorCode, isUuid, notFound } from '@shelfwise/kit';
import type { FineModel, PaymentModel } from '../mappers.js';
import type { PrismaClient } from './client.js';

export interface PaymentRequest {
  userId: string;
  fineIds: string[];
  /** Chosen by the client, unique per payment it means to make; retries reuse it. */
  idempotencyKey: string;
}

const MAX_KEY_LENGTH = 200;
const MAX_FINES_PER_PAYMENT = 100;

/**
 * Payments: the only code that reads or writes them. Loaders are per request (created in the context).
 */
export class PaymentRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly clock: Clock,
  ) {}

  /** Each user's payments, newest first, for many users in one query. */
  paymentsByUserLoader(): DataLoader<string, PaymentModel[]> {
    return new DataLoader(async (userIds) => {
      const valid = userIds.filter(isUuid);
      const rows = valid.length
        ? await this.prisma.payment.findMany({ where: { userId: { in: valid } }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] })
        : [];
      const byUser = new Map<string, PaymentModel[]>();
      for (const p of rows) {
        const list = byUser.get(p.userId);
        if (list) list.push(p);
        else byUser.set(p.userId, [p]);
      }
      return userIds.map((id) => byUser.get(id) ?? []);
    });
  }

  /** The fines each payment settled (oldest fine first), for many payments at once. */
  finesByPaymentLoader(): DataLoader<string, FineModel[]> {
    return new DataLoader(async (paymentIds) => {
      const links = await this.prisma.paymentFine.findMany({
        where: { paymentId: { in: [...paymentIds] } },
        include: { fine: true },
        orderBy: [{ fine: { createdAt: 'asc' } }, { fineId: 'asc' }],
      });
      const byPayment = new Map<string, FineModel[]>();
      for (const link of links) {
        const list = byPayment.get(link.paymentId);
        if (list) list.push(link.fine);
        else byPayment.set(link.paymentId, [link.fine]);
      }
      return paymentIds.map((id) => byPayment.get(id) ?? []);
    });
  }

  /**
   * Pays the given OPEN fines of one user in full, once per idempotency key: a retry with the same key
   * and the same fines returns the first payment instead of charging again; the same key with other
   * fines is refused (IDEMPOTENCY_KEY_REUSED). Fines that are not this user's are NOT_FOUND; fines no
   * longer open (paid or waived meanwhile) are a CONFLICT and nothing is charged.
   * Used by tests and seeding; the payFines mutation (a later issue) builds on it.
   */
  async recordPayment(request: PaymentRequest): Promise<PaymentModel> {
    const { userId } = request;
    const key = request.idempotencyKey.trim();
    const fineIds = [...new Set(request.fineIds.map((id) => id.toLowerCase()))].sort();
    if (!isUuid(userId)) throw badInput('userId must be a UUID.');
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw badInput(`An idempotency key is 1 to ${MAX_KEY_LENGTH} characters.`);
    if (fineIds.length === 0) throw badInput('Choose at least one fine to pay.');
    if (fineIds.length > MAX_FINES_PER_PAYMENT) throw badInput(`A payment settles at most ${MAX_FINES_PER_PAYMENT} fines.`);
    const requestHash = hashRequest(fineIds);

    const earlier = await this.replay(userId, key, requestHash);
    if (earlier) return earlier;
    if (!fineIds.every(isUuid)) throw notFound('Some of these fines do not exist. Check the fine ids.');
    try {
      return await this.prisma.$transaction(async (tx) => {
        const fines = await tx.fine.findMany({ where: { id: { in: fineIds }, userId } });
        if (fines.length !== fineIds.length) throw notFound('Some of these fines do not exist or are not yours. Check the fine ids.');
        // The conditional update is the guard: a fine settled or waived by a concurrent request is not
        // OPEN any more (Postgres re-checks the row after waiting for its lock), so the count falls short.
        const settled = await tx.fine.updateMany({ where: { id: { in: fineIds }, userId, status: 'OPEN' }, data: { status: 'PAID' } });
        if (settled.count !== fineIds.length)
          throw conflict('Some of these fines are no longer open (already paid or waived). Reload your fines and pay the open ones.');
        return tx.payment.create({
          data: {
            userId,
            amountCents: fines.reduce((sum, f) => sum + f.amountCents, 0),
            idempotencyKey: key,
            requestHash,
            createdAt: this.clock.now(),
            fines: { create: fines.map((f) => ({ fineId: f.id, amountCents: f.amountCents })) },
          },
        });
      });
    } catch (err) {
      // A concurrent request with the same key may have committed first (our insert then hit the
      // unique key, or the fines were already PAID by it): answer exactly as that request did.
      const winner = await this.replay(userId, key, requestHash);
      if (winner) return winner;
      throw err;
    }
  }

  /** The payment already made under this key, if any; refuses a key reused for a different request. */
  private async replay(userId: string, idempotencyKey: string, requestHash: string): Promise<PaymentModel | null> {
    const existing = await this.prisma.payment.findUnique({ where: { userId_idempotencyKey: { userId, idempotencyKey } } });
    if (!existing) return null;
    if (existing.requestHash !== requestHash) {
      throw appError(
        ErrorCode.IDEMPOTENCY_KEY_REUSED,
        'This idempotency key was already used for a different payment. Use a new key for a new payment.',
      );
    }
    return existing;
  }
}

/** What a request asks for, independent of the order the fines were listed in. */
function hashRequest(sortedFineIds: string[]): string {
  return createHash('sha256').update(sortedFineIds.join(',')).digest('hex');
}

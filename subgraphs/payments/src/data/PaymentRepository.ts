import { createHash } from 'node:crypto';
import DataLoader from 'dataloader';
import { appError, badInput, type Clock, conflict, ErrorCode, isUuid, notFound } from '@shelfwise/kit';
import type { PaymentMethod } from '../generated/prisma/client.js';
import type { FineModel, PaymentModel } from '../mappers.js';
import { MAX_FINES_PER_PAYMENT, type MoneyConfig } from '../money.js';
import type { PaymentProvider } from '../providers.js';
import type { PrismaClient } from './client.js';

export interface PaymentRequest {
  /** The patron paying; only their own fines can be in it. */
  userId: string;
  fineIds: string[];
  /** Chosen by the client, unique per payment it means to make; retries reuse it. */
  idempotencyKey: string;
  /** Default CARD (a patron paying themselves uses a card). */
  method?: PaymentMethod;
  /** The librarian taking the money at the desk; null when the patron pays themselves. */
  recordedById?: string | null;
}

export const MAX_KEY_LENGTH = 200;

/**
 * Payments: the only code that reads or writes them. Loaders are per request (created in the context).
 */
export class PaymentRepository {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly clock: Clock,
    private readonly money: MoneyConfig,
    private readonly provider: PaymentProvider,
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
   * Pays the given OPEN fines of one user in full through the provider, once per idempotency key: a
   * retry with the same key and the same fines returns the first payment instead of charging again; the
   * same key with other fines (or another method) is refused (IDEMPOTENCY_KEY_REUSED). Fines that are not
   * this user's are NOT_FOUND (whether they exist is not revealed); fines no longer open (paid or waived
   * meanwhile) are a CONFLICT. Any refusal records nothing and charges nothing.
   *
   * Concurrency (real Postgres): the transaction first claims the fines with a conditional update
   * (OPEN → PAID), so of several concurrent requests for the same fines exactly one gets past it (the
   * others wait for its row locks, then find the fines PAID); the unique (userId, idempotencyKey) key
   * stops a second payment under one key. A request that loses either race answers with the winner's
   * payment when the winner used the same key and request, and is refused otherwise.
   */
  async recordPayment(request: PaymentRequest): Promise<PaymentModel> {
    const { userId } = request;
    const key = request.idempotencyKey.trim();
    const fineIds = [...new Set(request.fineIds.map((id) => id.toLowerCase()))].sort();
    if (!isUuid(userId)) throw badInput('userId must be a UUID.');
    if (key.length === 0 || key.length > MAX_KEY_LENGTH) throw badInput(`An idempotency key is 1 to ${MAX_KEY_LENGTH} characters.`);
    if (fineIds.length === 0) throw badInput('Choose at least one fine to pay.');
    if (fineIds.length > MAX_FINES_PER_PAYMENT) throw badInput(`A payment settles at most ${MAX_FINES_PER_PAYMENT} fines.`);
    const method = request.method ?? 'CARD';
    const recordedById = request.recordedById ?? null;
    const requestHash = hashRequest(fineIds, method);

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
        const amountCents = fines.reduce((sum, f) => sum + f.amountCents, 0);
        // The money is taken only once the fines are ours; a refused charge rolls the claim back.
        const receipt = await this.provider.charge({
          userId,
          amountCents,
          currency: this.money.currency,
          method,
          idempotencyKey: `${userId}:${key}`,
          recordedById,
        });
        return tx.payment.create({
          data: {
            userId,
            amountCents,
            currency: this.money.currency,
            provider: this.provider.name,
            providerReference: receipt.reference,
            method,
            recordedById,
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
function hashRequest(sortedFineIds: string[], method: PaymentMethod): string {
  return createHash('sha256')
    .update(`${method}|${sortedFineIds.join(',')}`)
    .digest('hex');
}

import { getEnvNum } from './env.js';

/** 1 000.00 in the library's currency: enough to replace an expensive book. */
export const DEFAULT_MAX_FINE_CENTS = 100_000;
/**
 * No configuration may raise a single fine above 10 000.00 (payments keeps a payment's total far inside a
 * 32-bit GraphQL Int / Postgres INTEGER with it).
 */
export const MAX_FINE_CENTS_CEILING = 1_000_000;

/**
 * The largest single fine, in cents: SHELFWISE_MAX_FINE_CENTS (default {@link DEFAULT_MAX_FINE_CENTS}).
 * Payments refuses any fine above it; loans refuses a loan policy whose fine cap is above it, so an overdue
 * fine loans works out is always one payments accepts. Both read the same variable: give every service the
 * same value. Throws naming the variable when it is not a whole number from 1 to {@link MAX_FINE_CENTS_CEILING}.
 */
export function maxFineCentsFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  return checkMaxFineCents(getEnvNum('SHELFWISE_MAX_FINE_CENTS', DEFAULT_MAX_FINE_CENTS, env));
}

export function checkMaxFineCents(value: number): number {
  if (!Number.isSafeInteger(value) || value < 1 || value > MAX_FINE_CENTS_CEILING)
    throw new Error(`SHELFWISE_MAX_FINE_CENTS must be a whole number from 1 to ${MAX_FINE_CENTS_CEILING}, got ${value}.`);
  return value;
}

import { badInput, checkMaxFineCents, getEnvStr, maxFineCentsFromEnv } from '@shelfwise/kit';

export { DEFAULT_MAX_FINE_CENTS, MAX_FINE_CENTS_CEILING } from '@shelfwise/kit';

/**
 * Money in Shelfwise is whole cents (minor units) of one configured currency, held in JavaScript numbers
 * that are always safe integers, in Postgres INTEGER columns and in GraphQL Int fields. Nothing on the path
 * multiplies or divides by 100 or uses a float.
 */
export interface MoneyConfig {
  /** ISO 4217 code of the library's currency, e.g. EUR (SHELFWISE_CURRENCY). */
  currency: string;
  /** The largest single fine, in cents (SHELFWISE_MAX_FINE_CENTS). */
  maxFineCents: number;
}

export const DEFAULT_CURRENCY = 'EUR';
/** A payment settles 1 to 100 fines. */
export const MAX_FINES_PER_PAYMENT = 100;
/** Notes, waiver reasons: plain text up to this many characters. */
export const MAX_NOTE_LENGTH = 500;
/** An overdue fine is for 1 day up to about 100 years late; anything else is a caller's bug. */
export const MAX_DAYS_OVERDUE = 36_500;

/** Reads and checks SHELFWISE_CURRENCY and SHELFWISE_MAX_FINE_CENTS; throws naming the variable when wrong. */
export function moneyConfigFromEnv(env: NodeJS.ProcessEnv = process.env): MoneyConfig {
  return checkMoneyConfig({
    currency: getEnvStr('SHELFWISE_CURRENCY', DEFAULT_CURRENCY, env).toUpperCase(),
    maxFineCents: maxFineCentsFromEnv(env),
  });
}

export function checkMoneyConfig(config: MoneyConfig): MoneyConfig {
  if (!/^[A-Z]{3}$/.test(config.currency))
    throw new Error(`SHELFWISE_CURRENCY must be a three-letter ISO 4217 code such as EUR or USD, got "${config.currency}".`);
  checkMaxFineCents(config.maxFineCents);
  return config;
}

/** Refuses (BAD_USER_INPUT) anything but a whole number of cents from 1 to the configured maximum. */
export function checkFineAmount(amountCents: number, config: MoneyConfig): number {
  if (!Number.isSafeInteger(amountCents) || amountCents < 1 || amountCents > config.maxFineCents) {
    throw badInput(
      `A fine is a whole number of cents from 1 to ${config.maxFineCents} (${formatCents(config.maxFineCents, config.currency)}); got ${amountCents}.`,
      { field: 'amountCents' },
    );
  }
  return amountCents;
}

/** "1234 EUR cents" → "12.34 EUR", with integer arithmetic only (for messages and logs). */
export function formatCents(cents: number, currency: string): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const units = (abs - (abs % 100)) / 100; // exact: abs - abs % 100 is a multiple of 100
  return `${sign}${units}.${String(abs % 100).padStart(2, '0')} ${currency}`;
}

/** Optional staff text: trimmed, at most {@link MAX_NOTE_LENGTH} characters; blank is null. */
export function cleanNote(value: string | null | undefined, what: string): string | null {
  const text = value?.trim() ?? '';
  if (text.length > MAX_NOTE_LENGTH) throw badInput(`${what} is at most ${MAX_NOTE_LENGTH} characters.`);
  return text.length > 0 ? text : null;
}

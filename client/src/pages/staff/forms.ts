/**
 * Pure helpers for the staff forms: what a librarian types (money in major units, comma-separated lists,
 * whole numbers) turned into what the API takes (integer cents, string arrays, Int), with a plain message
 * when the text cannot be read. Range rules stay with the server, whose messages are shown as written.
 */
import type { CombinedError } from 'urql';

/** A value read from a text field, or why it could not be read. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(error: string): Parsed<T> => ({ ok: false, error });

/**
 * Money typed in major units ("2", "2.5", "2.50", "2,50", "€2.50", "EUR 2.50") as integer cents, computed without
 * floating point so 0.29 is 29 cents and never 28.999… A minus sign, more than two decimals or anything
 * else that is not an amount is refused.
 */
export function parseMoney(text: string, label = 'The amount'): Parsed<number> {
  // A currency sign or code typed out of habit is ignored; digit grouping is not guessed (1,234 vs 1,23).
  const trimmed = text.trim().replace(/^(?:[$€£¥₹]|[A-Za-z]{3}\s)\s*/, '');
  if (trimmed === '') return fail(`${label} is required.`);
  const match = /^(\d{1,9})(?:[.,](\d{1,2}))?$/.exec(trimmed);
  if (!match) return fail(`${label} must be an amount such as 2.50 (at most two decimals, no minus sign).`);
  const whole = Number(match[1]);
  const fraction = Number((match[2] ?? '').padEnd(2, '0'));
  return ok(whole * 100 + fraction);
}

/** Integer cents as major units for an input field: 250 → "2.50", 5 → "0.05". */
export function centsToMajor(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.trunc(cents));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** A whole number ("14"); empty text is `null` when `optional`, otherwise refused. */
export function parseWholeNumber(text: string, label: string, optional = false): Parsed<number | null> {
  const trimmed = text.trim();
  if (trimmed === '') return optional ? ok(null) : fail(`${label} is required.`);
  if (!/^-?\d{1,9}$/.test(trimmed)) return fail(`${label} must be a whole number.`);
  return ok(Number(trimmed));
}

/** "Le Guin, Butler,  , Jemisin" → ["Le Guin", "Butler", "Jemisin"]: trimmed, empty entries dropped. */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/** The book form's fields, as typed. */
export interface BookFormValues {
  isbn: string;
  title: string;
  authors: string;
  genres: string;
  publishedYear: string;
  language: string;
  description: string;
  copies: string;
}

export const EMPTY_BOOK_FORM: BookFormValues = {
  isbn: '',
  title: '',
  authors: '',
  genres: '',
  publishedYear: '',
  language: 'en',
  description: '',
  copies: '1',
};

/** What a book form maps to; `copies` only matters when adding. */
export interface BookFormInput {
  isbn: string;
  title: string;
  authors: string[];
  genres: string[];
  publishedYear: number | null;
  language: string;
  description: string | null;
  copies: number;
}

/**
 * Reads the book form. Only what cannot be sent at all is refused here (a year or copy count that is not a
 * number); the ISBN's check digit, lengths, and "at least one author" are the server's to judge, and its
 * message is what the librarian sees. Lists are split on commas; blank description clears it.
 */
export function bookInputFromForm(values: BookFormValues): Parsed<BookFormInput> {
  const year = parseWholeNumber(values.publishedYear, 'Published year', true);
  if (!year.ok) return year;
  const copies = parseWholeNumber(values.copies, 'Copies', true);
  if (!copies.ok) return copies;
  const description = values.description.trim();
  return ok({
    isbn: values.isbn.trim(),
    title: values.title.trim(),
    authors: splitList(values.authors),
    genres: splitList(values.genres),
    publishedYear: year.value,
    language: values.language.trim() || 'en',
    description: description === '' ? null : values.description,
    copies: copies.value ?? 1,
  });
}

/** A book as loaded, back into the form (lists joined with ", "). */
export function bookFormFromBook(book: {
  isbn: string;
  title: string;
  authors: readonly string[];
  genres: readonly string[];
  publishedYear: number | null;
  language: string;
  description: string | null;
}): BookFormValues {
  return {
    isbn: book.isbn,
    title: book.title,
    authors: book.authors.join(', '),
    genres: book.genres.join(', '),
    publishedYear: book.publishedYear == null ? '' : String(book.publishedYear),
    language: book.language,
    description: book.description ?? '',
    copies: '',
  };
}

/** The input field a server refusal is about (`extensions.field`), to mark that control invalid. */
export function errorField(error: CombinedError | null | undefined): string | undefined {
  const field = error?.graphQLErrors[0]?.extensions?.field;
  return typeof field === 'string' ? field : undefined;
}

/** A fresh idempotency key for one payment attempt (reused for its retries). */
export function newIdempotencyKey(): string {
  // randomUUID exists only in secure contexts; getRandomValues everywhere.
  if (typeof crypto.randomUUID === 'function') return `desk-${crypto.randomUUID()}`;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `desk-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

/** Words for a copy's status, for people at the desk. */
export const COPY_STATUS_WORDS: Record<string, string> = {
  AVAILABLE: 'On the shelf',
  ON_LOAN: 'On loan',
  ON_HOLD_SHELF: 'On the hold shelf',
  LOST: 'Lost',
  WITHDRAWN: 'Withdrawn',
};

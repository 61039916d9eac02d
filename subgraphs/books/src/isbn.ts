import { badInput } from '@shelfwise/kit';

/**
 * ISBN handling for catalogue entry. Librarians type ISBNs as printed: ISBN-10 or ISBN-13, with hyphens
 * or spaces. Both forms are checked against their check digit and stored as ISBN-13, so one book has one
 * key whichever form was entered (an ISBN-10 `0-306-40615-2` and its ISBN-13 `978-0-306-40615-7` are the
 * same book).
 */

/** The ISBN-13 check digit of the first twelve digits. */
function isbn13CheckDigit(first12: string): number {
  let sum = 0;
  for (let i = 0; i < 12; i += 1) sum += Number(first12[i]) * (i % 2 === 0 ? 1 : 3);
  return (10 - (sum % 10)) % 10;
}

/** True when the ten characters (nine digits then a digit or X) carry a valid ISBN-10 check digit. */
function isbn10Valid(isbn: string): boolean {
  let sum = 0;
  for (let i = 0; i < 10; i += 1) {
    const c = isbn[i]!;
    const value = c === 'X' ? 10 : Number(c);
    sum += value * (10 - i);
  }
  return sum % 11 === 0;
}

/** The result of reading an ISBN: the ISBN-13, or why it is not one. */
export type IsbnResult = { ok: true; isbn13: string } | { ok: false; reason: string };

/** Reads an ISBN as entered; see {@link normalizeIsbn} for the throwing form. */
export function parseIsbn(input: string): IsbnResult {
  const compact = input.replace(/[\s-]/g, '').toUpperCase();
  if (compact === '') return { ok: false, reason: 'An ISBN is required.' };
  if (/^\d{9}[\dX]$/.test(compact)) {
    if (!isbn10Valid(compact)) return { ok: false, reason: `"${input}" is not a valid ISBN-10: its check digit does not match.` };
    const first12 = `978${compact.slice(0, 9)}`;
    return { ok: true, isbn13: `${first12}${isbn13CheckDigit(first12)}` };
  }
  if (/^\d{13}$/.test(compact)) {
    if (!compact.startsWith('978') && !compact.startsWith('979')) {
      return { ok: false, reason: `"${input}" is not an ISBN-13: book numbers start with 978 or 979.` };
    }
    if (isbn13CheckDigit(compact.slice(0, 12)) !== Number(compact[12])) {
      return { ok: false, reason: `"${input}" is not a valid ISBN-13: its check digit does not match.` };
    }
    return { ok: true, isbn13: compact };
  }
  return {
    ok: false,
    reason: `"${input}" is not an ISBN. Enter the 10 or 13 characters printed on the book (hyphens and spaces are fine; an ISBN-10 may end in X).`,
  };
}

/** The ISBN-13 for an ISBN-10 or ISBN-13 as entered; BAD_USER_INPUT when it is malformed or its check digit is wrong. */
export function normalizeIsbn(input: string): string {
  const result = parseIsbn(input);
  if (!result.ok) throw badInput(result.reason, { field: 'isbn' });
  return result.isbn13;
}

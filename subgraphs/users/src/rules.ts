import { badInput } from '@shelfwise/kit';

/**
 * The account rules, in one place: what a valid email, name and password are. Each check throws
 * BAD_USER_INPUT naming the problem and returns the value as it is stored.
 */

export const MAX_EMAIL_LENGTH = 254;
export const MAX_NAME_LENGTH = 100;
export const MIN_PASSWORD_LENGTH = 10;
/** Long enough for any passphrase or password manager; short enough that nobody hashes a novel. */
export const MAX_PASSWORD_LENGTH = 200;

/** Deliberately loose: one @, something on each side, a dot in the domain. Real checks happen by mail. */
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** How emails are stored and compared: trimmed, lower-case. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The normalised email, or BAD_USER_INPUT when it is not shaped like one. */
export function checkEmail(email: string): string {
  const normalized = normalizeEmail(email);
  if (normalized === '') throw badInput('Enter an email address.');
  if (normalized.length > MAX_EMAIL_LENGTH) throw badInput(`An email address is at most ${MAX_EMAIL_LENGTH} characters.`);
  if (!EMAIL.test(normalized)) throw badInput(`"${email.trim()}" is not an email address: it needs a name, an @ and a domain.`);
  return normalized;
}

/** The trimmed name, or BAD_USER_INPUT when it is blank or too long. */
export function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '') throw badInput('Enter a name: it is shown to library staff and next to your reviews.');
  if ([...trimmed].length > MAX_NAME_LENGTH) throw badInput(`A name is at most ${MAX_NAME_LENGTH} characters.`);
  return trimmed;
}

/**
 * A new password: 10 to 200 characters (Unicode code points, spaces count) and not the account's
 * email in any letter case. Passwords are never trimmed or otherwise changed.
 */
export function checkNewPassword(password: string, normalizedEmail: string): string {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) throw badInput(`A password needs at least ${MIN_PASSWORD_LENGTH} characters.`);
  if (length > MAX_PASSWORD_LENGTH) throw badInput(`A password is at most ${MAX_PASSWORD_LENGTH} characters.`);
  if (password.trim().toLowerCase() === normalizedEmail) throw badInput('A password must not be your email address. Choose another one.');
  return password;
}

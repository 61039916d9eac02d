import { badInput } from '@shelfwise/kit';
import type { AddBookInput, UpdateBookInput } from './generated/graphql.js';
import { normalizeIsbn } from './isbn.js';

/** Limits on what a librarian enters (docs/api.md, "Catalog mutations"). */
export const BOOK_LIMITS = {
  titleLength: 500,
  descriptionLength: 5000,
  authors: 50,
  authorLength: 200,
  genres: 20,
  genreLength: 100,
  /** Copies created by one addBook or addCopies. */
  copiesPerCall: 100,
  /** Earliest accepted year of publication (manuscripts and incunabula are catalogued by edition). */
  firstYear: 1000,
} as const;

/** The validated, normalised fields of a new book. */
export interface NewBook {
  isbn: string;
  title: string;
  authors: string[];
  genres: string[];
  publishedYear: number | null;
  language: string;
  description: string | null;
  copies: number;
}

/** The validated changes of an updateBook; absent keys stay as they are. */
export interface BookChanges {
  title?: string;
  authors?: string[];
  genres?: string[];
  publishedYear?: number | null;
  language?: string;
  description?: string | null;
}

function title(value: string): string {
  const trimmed = value.trim();
  if (trimmed === '') throw badInput('A title is required.', { field: 'title' });
  if (trimmed.length > BOOK_LIMITS.titleLength) {
    throw badInput(`A title is at most ${BOOK_LIMITS.titleLength} characters (this one has ${trimmed.length}).`, { field: 'title' });
  }
  return trimmed;
}

function authors(values: readonly string[]): string[] {
  const trimmed = values.map((a) => a.trim());
  if (trimmed.length === 0) throw badInput('At least one author is required.', { field: 'authors' });
  const blank = trimmed.findIndex((a) => a === '');
  if (blank >= 0) throw badInput(`Author ${blank + 1} is blank; remove it or enter a name.`, { field: 'authors' });
  if (trimmed.length > BOOK_LIMITS.authors) throw badInput(`A book lists at most ${BOOK_LIMITS.authors} authors.`, { field: 'authors' });
  const long = trimmed.find((a) => a.length > BOOK_LIMITS.authorLength);
  if (long) throw badInput(`An author's name is at most ${BOOK_LIMITS.authorLength} characters.`, { field: 'authors' });
  return trimmed;
}

function genres(values: readonly string[] | null | undefined): string[] {
  const trimmed = (values ?? []).map((g) => g.trim());
  if (trimmed.some((g) => g === '')) throw badInput('A genre cannot be blank.', { field: 'genres' });
  const unique = [...new Set(trimmed)];
  if (unique.length > BOOK_LIMITS.genres) throw badInput(`A book has at most ${BOOK_LIMITS.genres} genres.`, { field: 'genres' });
  if (unique.some((g) => g.length > BOOK_LIMITS.genreLength)) {
    throw badInput(`A genre is at most ${BOOK_LIMITS.genreLength} characters.`, { field: 'genres' });
  }
  return unique;
}

function publishedYear(value: number | null | undefined, now: Date): number | null {
  if (value === null || value === undefined) return null;
  const last = now.getUTCFullYear() + 1;
  if (!Number.isInteger(value) || value < BOOK_LIMITS.firstYear || value > last) {
    throw badInput(`"publishedYear" must be a year from ${BOOK_LIMITS.firstYear} to ${last}.`, { field: 'publishedYear' });
  }
  return value;
}

function language(value: string): string {
  const code = value.trim().toLowerCase();
  if (!/^[a-z]{2}$/.test(code)) {
    throw badInput(`"${value}" is not a language code. Use the two-letter ISO 639-1 code, e.g. "en" or "fr".`, { field: 'language' });
  }
  return code;
}

function description(value: string | null | undefined): string | null {
  const trimmed = value?.trim() ?? '';
  if (trimmed === '') return null;
  if (trimmed.length > BOOK_LIMITS.descriptionLength) {
    throw badInput(`A description is at most ${BOOK_LIMITS.descriptionLength} characters (this one has ${trimmed.length}).`, {
      field: 'description',
    });
  }
  return trimmed;
}

/** How many copies one call may create: a whole number from `min` to 100. */
export function copyCount(value: number, min: 0 | 1, field: string): number {
  if (!Number.isInteger(value) || value < min || value > BOOK_LIMITS.copiesPerCall) {
    throw badInput(`"${field}" must be a whole number from ${min} to ${BOOK_LIMITS.copiesPerCall}.`, { field });
  }
  return value;
}

/** Checks and normalises an addBook input (ISBN → ISBN-13, trimmed text); BAD_USER_INPUT names the field. */
export function validateNewBook(input: AddBookInput, now: Date): NewBook {
  return {
    isbn: normalizeIsbn(input.isbn),
    title: title(input.title),
    authors: authors(input.authors),
    genres: genres(input.genres),
    publishedYear: publishedYear(input.publishedYear, now),
    language: input.language === null || input.language === undefined ? 'en' : language(input.language),
    description: description(input.description),
    copies: input.copies === null || input.copies === undefined ? 1 : copyCount(input.copies, 0, 'copies'),
  };
}

/**
 * Checks an updateBook input. A field left out stays as it is; `null` clears the fields that may be
 * empty (publishedYear, description, genres) and is refused for the ones a book cannot lack.
 */
export function validateBookChanges(input: UpdateBookInput, now: Date): BookChanges {
  const changes: BookChanges = {};
  const required = (field: 'title' | 'authors' | 'language') => {
    if (input[field] === null) throw badInput(`"${field}" cannot be cleared; leave it out to keep it as it is.`, { field });
  };
  required('title');
  required('authors');
  required('language');
  if (typeof input.title === 'string') changes.title = title(input.title);
  if (input.authors) changes.authors = authors(input.authors);
  if (typeof input.language === 'string') changes.language = language(input.language);
  if (input.genres !== undefined) changes.genres = genres(input.genres);
  if (input.publishedYear !== undefined) changes.publishedYear = publishedYear(input.publishedYear, now);
  if (input.description !== undefined) changes.description = description(input.description);
  return changes;
}

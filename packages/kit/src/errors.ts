import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from './logger.js';

/** The fixed set of `extensions.code` values clients can rely on (shared/API.md, "Error codes"). */
export const ErrorCode = {
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  BOOK_UNAVAILABLE: 'BOOK_UNAVAILABLE',
  LOAN_LIMIT_REACHED: 'LOAN_LIMIT_REACHED',
  PATRON_BLOCKED: 'PATRON_BLOCKED',
  RENEWAL_LIMIT_REACHED: 'RENEWAL_LIMIT_REACHED',
  RENEWAL_BLOCKED_BY_HOLD: 'RENEWAL_BLOCKED_BY_HOLD',
  ALREADY_RETURNED: 'ALREADY_RETURNED',
  HOLD_NOT_ALLOWED: 'HOLD_NOT_ALLOWED',
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  /** Too many requests from one address or account; `extensions.retryAfterSeconds` says when to retry. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** Something failed on our side; the message never says what (it is logged instead). */
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  /** A service the answer depends on did not respond; partial data may be returned. */
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const PUBLIC_CODES = new Set<string>(Object.values(ErrorCode));
/** Codes Apollo Server itself produces for malformed requests; safe to pass through as they are. */
const APOLLO_REQUEST_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/** A GraphQL error with a stable code and a message a person can act on. */
export function appError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extra, code } });
}

export const badInput = (message: string, extra?: Record<string, unknown>) => appError(ErrorCode.BAD_USER_INPUT, message, extra);
export const notFound = (message: string, extra?: Record<string, unknown>) => appError(ErrorCode.NOT_FOUND, message, extra);
export const conflict = (message: string, extra?: Record<string, unknown>) => appError(ErrorCode.CONFLICT, message, extra);
export const unauthenticated = (message = 'You need to sign in to do this.') => appError(ErrorCode.UNAUTHENTICATED, message);
export const forbidden = (message = 'You are not allowed to do this.') => appError(ErrorCode.FORBIDDEN, message);

export const INTERNAL_ERROR_MESSAGE = 'Something went wrong on our side. Please try again; if it keeps happening, contact the library.';

/**
 * Apollo Server `formatError` for every service: known codes pass through with their message and only
 * their public extensions; anything else (a Prisma error with SQL in it, a network error naming a host)
 * is logged in full and replaced by a generic INTERNAL_SERVER_ERROR. Stack traces never leave.
 */
export function createErrorFormatter(logger: Logger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = typeof formatted.extensions?.code === 'string' ? formatted.extensions.code : undefined;
    const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
    const isOurs = code !== undefined && PUBLIC_CODES.has(code) && code !== ErrorCode.INTERNAL_SERVER_ERROR;
    if (isOurs || (code !== undefined && APOLLO_REQUEST_CODES.has(code))) {
      const { stacktrace: _stack, exception: _exception, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected error while resolving a request');
    return {
      message: INTERNAL_ERROR_MESSAGE,
      ...(formatted.path ? { path: formatted.path } : {}),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
    };
  };
}

import { createErrorFormatter, ErrorCode, INTERNAL_ERROR_MESSAGE, type Logger } from '@shelfwise/kit';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

export const SERVICE_UNAVAILABLE_MESSAGE = 'Part of this answer is unavailable right now; try again shortly.';

/**
 * A subgraph did not answer (connection refused or reset, timeout, 502/503/504). The message is the
 * generic one clients see; the subgraph name and the cause stay on the object for the router's log.
 */
export class SubgraphUnavailableError extends GraphQLError {
  constructor(
    readonly subgraph: string,
    cause: unknown,
  ) {
    super(SERVICE_UNAVAILABLE_MESSAGE, { extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } });
    this.name = 'SubgraphUnavailableError';
    this.cause = cause;
  }
}

/** Network failures the gateway reports with the subgraph's URL in the message. */
const NETWORK_FAILURE =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|socket hang up|fetch failed|request to \S+ failed/i;
/** What must never reach a client: URLs, loopback hosts, host:port pairs. */
const LEAKS =
  /\b[a-z][a-z0-9+.-]*:\/\/|\blocalhost\b|\b127\.0\.0\.1\b|\[::1?\]|\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b|\bat \S+ \(|\.ts:\d+|\.js:\d+/i;
/** Extensions the gateway adds that describe our infrastructure (e.g. `response.url` of a failed fetch). */
const PRIVATE_EXTENSIONS = new Set(['response', 'exception', 'stacktrace', 'http']);

export function isNetworkFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  return (
    (typeof code === 'string' && NETWORK_FAILURE.test(code)) ||
    NETWORK_FAILURE.test(error.message) ||
    (error.cause !== undefined && isNetworkFailure(error.cause))
  );
}

function leaks(value: unknown): boolean {
  if (typeof value === 'string') return LEAKS.test(value);
  if (Array.isArray(value)) return value.some(leaks);
  if (value !== null && typeof value === 'object') return Object.values(value).some(leaks);
  return false;
}

function unwrap(error: unknown): unknown {
  return error instanceof GraphQLError && error.originalError ? error.originalError : error;
}

/**
 * The router's `formatError`: the kit's formatter (public codes pass, everything else becomes a generic
 * INTERNAL_SERVER_ERROR, logged in full) with two additions for federation. A subgraph that cannot be
 * reached becomes SERVICE_UNAVAILABLE with a generic message, so the rest of the answer still arrives
 * as partial data; and a last check replaces any error that would still show a URL, host, port or
 * stack frame (the gateway puts subgraph URLs in messages and in `extensions.response`).
 */
export function createRouterErrorFormatter(logger: Logger) {
  const base = createErrorFormatter(logger);
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrap(error);
    const where = formatted.path ? { path: formatted.path } : {};
    if (original instanceof SubgraphUnavailableError || isNetworkFailure(original)) {
      if (!(original instanceof SubgraphUnavailableError)) logger.warn({ err: original }, 'a subgraph could not be reached');
      return { message: SERVICE_UNAVAILABLE_MESSAGE, ...where, extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } };
    }
    const result = base(formatted, error);
    const extensions = Object.fromEntries(Object.entries(result.extensions ?? {}).filter(([key]) => !PRIVATE_EXTENSIONS.has(key)));
    if (leaks(result.message) || leaks(extensions)) {
      logger.error({ err: original, path: formatted.path }, 'an error would have shown infrastructure details; replaced');
      return { message: INTERNAL_ERROR_MESSAGE, ...where, extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR } };
    }
    return { ...result, extensions };
  };
}

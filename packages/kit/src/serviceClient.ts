import type { GraphQLError } from 'graphql';
import { getEnvOptional } from './env.js';
import { appError, ErrorCode } from './errors.js';
import type { Logger } from './logger.js';
import { defaultSubgraphUrl, SUBGRAPH_NAMES, subgraphUrlEnvVar, type SubgraphName } from './services.js';
import { CALLER_HEADER, serviceCredential } from './trust.js';

/** Where each subgraph answers, for internal calls between services. */
export interface SubgraphDirectory {
  url(name: SubgraphName): string;
}

/**
 * Subgraph addresses that the embedded launcher fills in as each subgraph starts (ports are chosen at
 * start); falls back to the environment / local defaults for names not set.
 */
export class MutableSubgraphDirectory implements SubgraphDirectory {
  private readonly urls = new Map<SubgraphName, string>();

  constructor(private readonly fallback: SubgraphDirectory = subgraphDirectoryFromEnv()) {}

  set(name: SubgraphName, url: string): void {
    this.urls.set(name, url);
  }

  url(name: SubgraphName): string {
    return this.urls.get(name) ?? this.fallback.url(name);
  }
}

/** SHELFWISE_<NAME>_URL, else the local default (http://127.0.0.1:<port>/graphql). */
export function subgraphDirectoryFromEnv(env: NodeJS.ProcessEnv = process.env): SubgraphDirectory {
  const urls = new Map(
    SUBGRAPH_NAMES.map((name) => [name, getEnvOptional(subgraphUrlEnvVar(name), env) ?? defaultSubgraphUrl(name, '127.0.0.1')]),
  );
  return { url: (name) => urls.get(name) ?? defaultSubgraphUrl(name, '127.0.0.1') };
}

/** Codes an internal call passes on to the end user as they are (a domain refusal, not a fault). */
const PASS_THROUGH = new Set<string>(
  [
    ErrorCode.BAD_USER_INPUT,
    ErrorCode.NOT_FOUND,
    ErrorCode.CONFLICT,
    ErrorCode.BOOK_UNAVAILABLE,
    ErrorCode.LOAN_LIMIT_REACHED,
    ErrorCode.PATRON_BLOCKED,
    ErrorCode.RENEWAL_LIMIT_REACHED,
    ErrorCode.RENEWAL_BLOCKED_BY_HOLD,
    ErrorCode.ALREADY_RETURNED,
    ErrorCode.HOLD_NOT_ALLOWED,
    ErrorCode.IDEMPOTENCY_KEY_REUSED,
  ].map(String),
);

export interface ServiceCallOptions {
  /** Give up after this long (default 10 s). A timed-out call may still have happened: retry with the same key. */
  timeoutMs?: number;
}

/**
 * Internal GraphQL calls from one subgraph to another's `@inaccessible` operations, signed with the
 * service key. A domain refusal from the other service (BOOK_UNAVAILABLE, CONFLICT…) is rethrown with its
 * code and message; anything else (the service down, a timeout, an internal error there) becomes
 * SERVICE_UNAVAILABLE with a message that names no host.
 */
export class ServiceClient {
  constructor(
    readonly from: SubgraphName,
    private readonly directory: SubgraphDirectory,
    private readonly logger?: Logger,
  ) {}

  async call<T>(to: SubgraphName, query: string, variables: Record<string, unknown> = {}, options: ServiceCallOptions = {}): Promise<T> {
    let body: { data?: T | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
    try {
      const res = await fetch(this.directory.url(to), {
        method: 'POST',
        headers: { 'content-type': 'application/json', [CALLER_HEADER]: serviceCredential(this.from) },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      body = (await res.json()) as typeof body;
    } catch (err) {
      this.logger?.warn({ err, to }, 'internal call failed');
      throw unavailable(to);
    }
    const error = body.errors?.[0];
    if (error) {
      const code = typeof error.extensions?.code === 'string' ? error.extensions.code : '';
      if (PASS_THROUGH.has(code)) {
        const { code: _code, ...extra } = error.extensions ?? {};
        throw appError(code as ErrorCode, error.message, extra);
      }
      this.logger?.warn({ to, error }, 'internal call answered with an error');
      throw unavailable(to);
    }
    if (body.data === undefined || body.data === null) throw unavailable(to);
    return body.data;
  }
}

function unavailable(to: SubgraphName): GraphQLError {
  return appError(ErrorCode.SERVICE_UNAVAILABLE, `The ${to} service did not answer in time. Please try again in a moment.`);
}

import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { CALLER_HEADER, callerTrust, type Logger, type Viewer } from '@shelfwise/kit';
import type { GraphQLError } from 'graphql';
import { SubgraphUnavailableError } from './errors.js';
import type { Fetcher } from './fetcher.js';

/** What the router puts in each request's context. */
export interface RouterContext {
  /** The signed-in caller, vouched for to subgraphs in the signed `x-shelfwise-caller` credential; null = anonymous. */
  viewer: Viewer | null;
  /** The client's address (subgraphs use it to throttle sign-in attempts). */
  clientAddress?: string | null;
  /** An operation the router sends itself (a subscription event's fields): not charged to any rate limit. */
  internal?: boolean;
}

/** Counts fetches per subgraph (tests assert one fetch per subgraph for a whole page of books). */
export class FetchCounter {
  readonly counts = new Map<string, number>();

  add(subgraph: string): void {
    this.counts.set(subgraph, (this.counts.get(subgraph) ?? 0) + 1);
  }

  reset(): void {
    this.counts.clear();
  }
}

export interface SubgraphDataSourceOptions {
  name: string;
  url: string;
  fetcher: Fetcher;
  counter: FetchCounter;
  /** Already bound to the subgraph (`logger.child({ subgraph: name })`). */
  logger: Logger;
}

/** Statuses a proxy or load balancer answers when the subgraph behind it is down. */
const UNAVAILABLE_STATUSES = new Set([502, 503, 504]);

/**
 * One subgraph as the gateway sees it: a keep-alive fetcher, the caller forwarded as a header, fetches
 * counted, and "could not reach it" turned into SERVICE_UNAVAILABLE (never the URL or errno).
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<RouterContext> {
  readonly name: string;
  private readonly counter: FetchCounter;
  private readonly logger: Logger;

  constructor(options: SubgraphDataSourceOptions) {
    super({ url: options.url, fetcher: options.fetcher });
    this.name = options.name;
    this.counter = options.counter;
    this.logger = options.logger;
  }

  override process(options: GraphQLDataSourceProcessOptions<RouterContext>) {
    this.counter.add(this.name);
    return super.process(options);
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<RouterContext>): void {
    // Always set: every subgraph call carries the router's signed credential (subgraphs refuse calls
    // without one), and nothing a client sent can pose as the caller.
    request.http?.headers.set(CALLER_HEADER, callerTrust().sign({ viewer: context.viewer, clientAddress: context.clientAddress ?? null }));
  }

  override async errorFromResponse(response: Parameters<RemoteGraphQLDataSource['errorFromResponse']>[0]): Promise<GraphQLError> {
    if (UNAVAILABLE_STATUSES.has(response.status)) return new SubgraphUnavailableError(this.name, new Error(`HTTP ${response.status}`));
    return super.errorFromResponse(response);
  }

  override didEncounterError(error: Error): void {
    if (error instanceof SubgraphUnavailableError) {
      this.logger.warn({ cause: String(error.cause) }, 'subgraph unavailable');
      throw error;
    }
    // Anything thrown below the HTTP response (refused, reset, timeout, a body that is not JSON) means
    // we got no usable answer from this subgraph.
    if (!('extensions' in error)) {
      this.logger.warn({ err: { message: error.message, code: (error as { code?: unknown }).code } }, 'subgraph unreachable');
      throw new SubgraphUnavailableError(this.name, error);
    }
    throw error;
  }
}

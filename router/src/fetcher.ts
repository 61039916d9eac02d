import http from 'node:http';
import https from 'node:https';
import type { RemoteGraphQLDataSource } from '@apollo/gateway';

/** The gateway's fetcher contract (from @apollo/utils.fetcher, which is not a direct dependency). */
export type Fetcher = RemoteGraphQLDataSource['fetcher'];
type FetcherRequestInit = NonNullable<Parameters<Fetcher>[1]>;
type FetcherResponse = Awaited<ReturnType<Fetcher>>;

export interface KeepAliveFetcherOptions {
  /** Most sockets open to one subgraph at a time; requests beyond it queue. */
  maxSocketsPerHost?: number;
  /** Idle sockets kept per subgraph for the next request. */
  maxFreeSocketsPerHost?: number;
  /** A subgraph request that sends nothing for this long is aborted. */
  timeoutMs?: number;
}

export interface KeepAliveFetcher {
  fetch: Fetcher;
  /** Closes every pooled socket (the router's stop()). */
  destroy(): void;
}

/** Statuses whose responses have no body (the WHATWG Response constructor refuses one). */
const NULL_BODY_STATUSES = new Set([101, 204, 205, 304]);

function toHeaders(raw: http.IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

/**
 * The router's fetcher for subgraph calls: node:http with a keep-alive agent, so the gateway reuses
 * connections to each subgraph instead of opening one per fetch (its default, make-fetch-happen, adds
 * a cache layer we do not want between router and subgraphs). Network failures reject with the
 * original error (ECONNREFUSED …); the data source turns them into SERVICE_UNAVAILABLE.
 */
export function createKeepAliveFetcher(options: KeepAliveFetcherOptions = {}): KeepAliveFetcher {
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSocketsPerHost ?? 256,
    maxFreeSockets: options.maxFreeSocketsPerHost ?? 64,
    // Reuse the most recently used socket first: fewer sockets stay warm under light load.
    scheduling: 'lifo' as const,
  };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(agentOptions);
  const timeoutMs = options.timeoutMs ?? 30_000;

  const fetch = (url: string, init: FetcherRequestInit = {}): Promise<FetcherResponse> =>
    new Promise<FetcherResponse>((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const body = init.body === undefined ? undefined : Buffer.isBuffer(init.body) ? init.body : Buffer.from(init.body);
      const headers: Record<string, string | number> = { ...init.headers };
      if (body) headers['content-length'] = body.length;
      const request = (secure ? https : http).request(
        target,
        {
          method: init.method ?? 'GET',
          headers,
          agent: secure ? httpsAgent : httpAgent,
          timeout: timeoutMs,
          signal: init.signal as AbortSignal | undefined,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const status = res.statusCode ?? 502;
            const response = new Response(NULL_BODY_STATUSES.has(status) ? null : Buffer.concat(chunks), {
              status,
              statusText: res.statusMessage ?? '',
              headers: toHeaders(res.headers),
            });
            resolve(response as unknown as FetcherResponse);
          });
        },
      );
      request.on('timeout', () => request.destroy(Object.assign(new Error('subgraph request timed out'), { code: 'ETIMEDOUT' })));
      request.on('error', reject);
      request.end(body);
    });

  return {
    fetch,
    destroy() {
      httpAgent.destroy();
      httpsAgent.destroy();
    },
  };
}

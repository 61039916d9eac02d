/**
 * The app's GraphQL client: urql with the normalized cache, the access token on every request (refreshed
 * before it expires and once more when the server says it is no longer valid), and subscriptions over
 * graphql-ws on the same endpoint. One client per signed-in user: signing in or out builds a new one, so
 * no cached data and no socket outlives the person it belonged to.
 */
import { authExchange } from '@urql/exchange-auth';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { Client, fetchExchange, subscriptionExchange, type Operation } from 'urql';
import { createCacheExchange } from '../cache';
import type { SessionStore } from './session';

/** Operations that must go out without a session and whose UNAUTHENTICATED answer is not about the token. */
const SESSIONLESS = new Set(['Login', 'Register', 'RefreshSession']);

function operationName(operation: Operation): string | undefined {
  for (const definition of operation.query.definitions) {
    if (definition.kind === 'OperationDefinition') return definition.name?.value;
  }
  return undefined;
}

export interface AppClient {
  client: Client;
  /** Closes the WebSocket; called when the client is replaced. */
  dispose(): void;
}

export interface AppClientOptions {
  session: SessionStore;
  /** Called after the WebSocket reconnected: pub/sub is at-most-once, so screens refetch what they show. */
  onReconnect?: () => void;
  endpoint?: string;
}

function webSocketUrl(endpoint: string): string {
  const url = new URL(endpoint, window.location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** Builds the client for whoever is signed in now. */
export function createAppClient({ session, onReconnect, endpoint = '/graphql' }: AppClientOptions): AppClient {
  const ws: WsClient = createWsClient({
    url: webSocketUrl(endpoint),
    lazy: true,
    // Read at every (re)connect, so a reconnect after a refresh carries the new token.
    connectionParams: async () => {
      const token = await session.freshAccessToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    on: {
      connected: (_socket, _payload, wasRetry) => {
        if (wasRetry) onReconnect?.();
      },
      closed: (event) => {
        // 4403: the router no longer accepts this session (signed out elsewhere, or it expired).
        if ((event as CloseEvent | undefined)?.code === 4403 && session.session) {
          void session.refresh().catch(() => undefined);
        }
      },
    },
  });

  const client = new Client({
    url: endpoint,
    // Apollo Server's CSRF prevention accepts requests that carry this header.
    fetchOptions: { headers: { 'apollo-require-preflight': 'true' } },
    exchanges: [
      createCacheExchange(),
      authExchange(async (utils) => ({
        addAuthToOperation(operation) {
          const token = session.session?.accessToken;
          if (!token || SESSIONLESS.has(operationName(operation) ?? '')) return operation;
          return utils.appendHeaders(operation, { authorization: `Bearer ${token}` });
        },
        willAuthError(operation) {
          return !SESSIONLESS.has(operationName(operation) ?? '') && session.needsRefresh();
        },
        didAuthError(error, operation) {
          if (!session.session || SESSIONLESS.has(operationName(operation) ?? '')) return false;
          return error.response?.status === 401 || error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED');
        },
        async refreshAuth() {
          // A refused refresh ends the session; the app sends the person to sign in.
          await session.refresh().catch(() => undefined);
        },
      })),
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });

  return { client, dispose: () => void ws.dispose() };
}

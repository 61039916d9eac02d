import { InMemoryBus, type BusHandler } from '@shelfwise/kit';
import { eventually } from '@shelfwise/testkit';
import type { FormattedExecutionResult, GraphQLFormattedError } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import { WebSocket } from 'ws';

/** The router's WebSocket endpoint for its HTTP GraphQL URL (same host, port and path). */
export function wsUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/, 'ws');
}

export interface Connection {
  client: Client;
  /** Close events the client saw (code, reason). */
  closes: { code: number; reason: string }[];
  dispose(): Promise<void>;
}

/**
 * A graphql-ws client that does not retry (a refused connection shows up as its close code). `token`:
 * sent as `connectionParams.authorization`.
 */
export function connect(httpUrl: string, token?: string): Connection {
  const closes: { code: number; reason: string }[] = [];
  const client = createClient({
    url: wsUrl(httpUrl),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    shouldRetry: () => false,
    lazy: true,
    connectionParams: token === undefined ? {} : { authorization: `Bearer ${token}` },
    on: {
      closed: (event) => {
        const { code, reason } = event as { code: number; reason: string };
        closes.push({ code, reason: String(reason) });
      },
    },
  });
  return { client, closes, dispose: async () => client.dispose() };
}

export interface Subscription<T> {
  results: FormattedExecutionResult<T>[];
  /** Errors the server answered the subscribe with (an `error` message), or the close event. */
  error: GraphQLFormattedError[] | { code: number; reason: string } | undefined;
  completed: boolean;
  unsubscribe(): void;
}

export function subscribe<T = Record<string, unknown>>(
  connection: Connection,
  query: string,
  variables: Record<string, unknown> = {},
): Subscription<T> {
  const subscription: Subscription<T> = {
    results: [],
    error: undefined,
    completed: false,
    unsubscribe: () => undefined,
  };
  subscription.unsubscribe = connection.client.subscribe<T>(
    { query, variables },
    {
      next: (result) => subscription.results.push(result as FormattedExecutionResult<T>),
      error: (error) => {
        subscription.error = error as Subscription<T>['error'];
      },
      complete: () => {
        subscription.completed = true;
      },
    },
  );
  return subscription;
}

/** The errors a refused subscribe got (fails when it got anything else). */
export async function refusal(subscription: Subscription<unknown>): Promise<GraphQLFormattedError[]> {
  await eventually(() => subscription.error !== undefined, 5000, 'the subscribe to be refused');
  if (!Array.isArray(subscription.error)) throw new Error(`Expected GraphQL errors, got ${JSON.stringify(subscription.error)}`);
  return subscription.error;
}

/** Opens a raw WebSocket speaking graphql-transport-ws and resolves with its close code and reason. */
export function rawSocket(httpUrl: string): { socket: WebSocket; closed: Promise<{ code: number; reason: string }> } {
  const socket = new WebSocket(wsUrl(httpUrl), 'graphql-transport-ws');
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    socket.on('error', () => undefined);
  });
  return { socket, closed };
}

/** Waits until `connection` saw a close, and returns it. */
export async function closeOf(connection: Connection): Promise<{ code: number; reason: string }> {
  await eventually(() => connection.closes.length > 0, 5000, 'the connection to close');
  return connection.closes[0]!;
}

/**
 * The in-process bus, counting the handlers held on each channel, so a leak test sees the router's own
 * bus subscriptions come and go even on a channel a subgraph also listens to (reservations listens for
 * availability events).
 */
export class CountingBus extends InMemoryBus {
  private readonly held = new Map<string, number>();

  /** Handlers registered on `channel` right now, by anyone. */
  handlers(channel: string): number {
    return this.held.get(channel) ?? 0;
  }

  override async subscribe(channel: string, handler: BusHandler): Promise<() => Promise<void>> {
    const unsubscribe = await super.subscribe(channel, handler);
    this.held.set(channel, this.handlers(channel) + 1);
    let released = false;
    return async () => {
      if (!released) {
        released = true;
        this.held.set(channel, this.handlers(channel) - 1);
      }
      await unsubscribe();
    };
  }
}

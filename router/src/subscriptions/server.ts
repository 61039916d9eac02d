import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ErrorCode, type Logger, type Viewer } from '@shelfwise/kit';
import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  MaxIntrospectionDepthRule,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { checkOperation, measureOperation, withoutSuggestion, type OperationLimits } from '../limits.js';
import { clientAddress, rateLimitedBody, requestRateLimit, type RateLimiter, type RateLimitSettings } from '../rateLimit.js';
import type { SubscriptionFieldDefinition } from './fields.js';
import { frameSink } from './frames.js';
import { KeepAlive } from './keepAlive.js';
import type { SubscriptionHub } from './hub.js';
import { planSubscription } from './plan.js';
import type { SubscriptionStream } from './stream.js';

export interface SubscriptionServerOptions {
  httpServer: Server;
  /** The GraphQL path (`/graphql`): WebSocket upgrades anywhere else are refused. */
  path: string;
  /** The gateway's API schema (with the Subscription type), once loaded. */
  schema: () => GraphQLSchema | undefined;
  /** Null when the router has no event bus: subscriptions are then refused with SERVICE_UNAVAILABLE. */
  hub: SubscriptionHub | null;
  definitions: readonly SubscriptionFieldDefinition[];
  /** The same check as HTTP's Authorization header. Throws a GraphQLError for a bad token. */
  resolveViewer: (headers: IncomingHttpHeaders) => Promise<Viewer | null>;
  /** Whether a signed-in connection's session is still live; unset: never re-checked. */
  sessionIsLive?: (viewer: Viewer) => Promise<boolean>;
  sessionCheckIntervalMs: number;
  limits: OperationLimits;
  introspection: boolean;
  rateLimiter: RateLimiter;
  rateLimit: RateLimitSettings;
  formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  connectionInitWaitTimeoutMs: number;
  keepAliveMs: number;
  maxPayloadBytes: number;
  /** A socket with more than this many bytes waiting to be sent is closed (1013) instead of buffering on. */
  maxBufferedBytes: number;
  logger: Logger;
}

export interface SubscriptionServer {
  /** Open WebSocket connections. */
  connections(): number;
  /** Closes every socket (1001, going away) and stops accepting upgrades. */
  dispose(): Promise<void>;
}

interface Connection {
  address: string;
  /** Set at connection_init; null = anonymous. */
  viewer: Viewer | null;
  /** The TCP stream the socket was upgraded on: subscription frames are written to it directly (frames.ts). */
  stream: Duplex;
}

/** What onSubscribe hands graphql-ws's `subscribe`: the registered stream. */
interface SubscribeContext {
  stream: SubscriptionStream;
}

/** Close codes beyond graphql-ws's own. */
export { SLOW_CONSUMER_CLOSE_CODE } from './frames.js';

const DOCUMENT_CACHE_SIZE = 500;

function codeError(message: string, code: string, extensions: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extensions, code } });
}

/** A close reason fits in a control frame (123 bytes). */
function closeReason(message: string): string {
  return Buffer.byteLength(message) <= 120 ? message : `${Buffer.from(message).subarray(0, 117).toString('utf8')}…`;
}

function withCode(errors: readonly GraphQLError[], code: string, hideSuggestions: boolean): GraphQLError[] {
  return errors.map(
    (error) =>
      new GraphQLError(hideSuggestions ? withoutSuggestion(error.message) : error.message, {
        nodes: error.nodes,
        source: error.source,
        positions: error.positions,
        path: error.path,
        originalError: error.originalError,
        extensions: { ...error.extensions, code },
      }),
  );
}

/**
 * graphql-ws on the router's HTTP server, at the GraphQL path. connection_init carries the caller
 * (`connectionParams.authorization`, checked like the HTTP header: a bad token closes with 4403); each
 * subscribe message passes the same rate limits and operation limits as an HTTP request, is planned
 * (plan.ts) and joins the hub, which writes the frames. Only subscription operations are served.
 */
export function startSubscriptionServer(options: SubscriptionServerOptions): SubscriptionServer {
  const { logger } = options;
  // No permessage-deflate: frames are written straight to the TCP stream (frames.ts), which keeps each
  // socket's order only while `ws` itself never holds a frame back to compress it.
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayloadBytes, perMessageDeflate: false });
  const connections = new Map<WebSocket, Connection>();
  // One timer pings every socket (graphql-ws's own keep-alive, a timer per socket, is off below).
  const keepAlive = new KeepAlive(options.keepAliveMs);
  const takeToken = requestRateLimit(options.rateLimiter, options.rateLimit, logger);
  const definitions = new Map(options.definitions.map((definition) => [definition.field, definition]));
  const rules = [...specifiedRules, MaxIntrospectionDepthRule];
  const hideSuggestions = !options.introspection;

  // Parsing and validation depend only on the text (and the schema): subscribers of one page share them.
  let cachedFor: GraphQLSchema | undefined;
  const documents = new Map<string, { document: DocumentNode } | { errors: GraphQLError[] }>();
  const prepare = (schema: GraphQLSchema, query: string) => {
    if (cachedFor !== schema) {
      documents.clear();
      cachedFor = schema;
    }
    let prepared = documents.get(query);
    if (!prepared) {
      try {
        const document = parse(query);
        const errors = validate(schema, document, rules);
        prepared = errors.length > 0 ? { errors: withCode(errors, 'GRAPHQL_VALIDATION_FAILED', hideSuggestions) } : { document };
      } catch (err) {
        if (!(err instanceof GraphQLError)) throw err;
        prepared = { errors: withCode([err], 'GRAPHQL_PARSE_FAILED', false) };
      }
      if (documents.size >= DOCUMENT_CACHE_SIZE) documents.clear();
      documents.set(query, prepared);
    }
    return prepared;
  };

  const refuseUpgrade = (socket: Duplex, status: string, headers: Record<string, string> = {}, body = '') => {
    const head = Object.entries({ connection: 'close', 'content-length': String(Buffer.byteLength(body)), ...headers })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${status}\r\n${head}\r\n${body}`);
  };

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => undefined);
    const pathname = new URL(request.url ?? '/', 'http://router').pathname;
    if (pathname !== options.path) {
      refuseUpgrade(socket, '404 Not Found');
      return;
    }
    // A new connection costs a token from the address bucket, like an HTTP request.
    void takeToken(clientAddress(request, options.rateLimit.trustProxy), null).then(
      (refusal) => {
        if (refusal) {
          refuseUpgrade(
            socket,
            '429 Too Many Requests',
            { 'retry-after': String(refusal.retryAfterSeconds), 'content-type': 'application/json' },
            JSON.stringify(rateLimitedBody(refusal.who, refusal.retryAfterSeconds)),
          );
          return;
        }
        wss.handleUpgrade(request, socket, head, (ws) => {
          connections.set(ws, { address: clientAddress(request, options.rateLimit.trustProxy), viewer: null, stream: socket });
          ws.once('close', () => connections.delete(ws));
          keepAlive.add(ws);
          wss.emit('connection', ws, request);
        });
      },
      (err: unknown) => {
        logger.error({ err }, 'WebSocket upgrade failed');
        socket.destroy();
      },
    );
  };
  options.httpServer.on('upgrade', onUpgrade);

  const graphqlWs = useServer<Record<string, unknown>>(
    {
      isProd: true,
      connectionInitWaitTimeout: options.connectionInitWaitTimeoutMs,

      async onConnect(ctx) {
        const connection = connections.get(ctx.extra.socket);
        if (!connection) return false;
        const params = ctx.connectionParams ?? {};
        const authorization = params.authorization ?? params.Authorization;
        const forbid = (message: string) => {
          ctx.extra.socket.close(CloseCode.Forbidden, closeReason(message));
          return false;
        };
        if (authorization !== undefined && authorization !== null && typeof authorization !== 'string') {
          return forbid('connectionParams.authorization must be the string "Bearer <accessToken>".');
        }
        try {
          connection.viewer = await options.resolveViewer(typeof authorization === 'string' ? { authorization } : {});
          return true;
        } catch (err) {
          if (err instanceof GraphQLError) return forbid(err.message);
          logger.error({ err }, 'checking a WebSocket connection’s token failed');
          ctx.extra.socket.close(CloseCode.InternalServerError, 'Internal server error');
          return false;
        }
      },

      async onSubscribe(ctx, id, payload) {
        const connection = connections.get(ctx.extra.socket);
        if (!connection) return [codeError('This connection has closed.', ErrorCode.BAD_USER_INPUT)];
        const viewer = connection.viewer;

        const refusal = await takeToken(connection.address, viewer?.userId ?? null);
        if (refusal) {
          const [error] = rateLimitedBody(refusal.who, refusal.retryAfterSeconds).errors;
          return [codeError(error!.message, ErrorCode.RATE_LIMITED, { retryAfterSeconds: refusal.retryAfterSeconds })];
        }

        const schema = options.schema();
        if (!schema) return [codeError('The graph is not loaded yet; try again shortly.', ErrorCode.SERVICE_UNAVAILABLE)];
        const prepared = prepare(schema, payload.query);
        if ('errors' in prepared) return prepared.errors;
        const { document } = prepared;
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) {
          return [
            codeError(
              payload.operationName
                ? `The document has no operation named "${payload.operationName}".`
                : 'The document has several operations; say which one to run with operationName.',
              ErrorCode.BAD_USER_INPUT,
            ),
          ];
        }
        if (operation.operation !== 'subscription') {
          return [
            codeError(
              `Only subscriptions are served over WebSocket; send ${operation.operation === 'query' ? 'queries' : 'mutations'} as HTTP POST to ${options.path}.`,
              ErrorCode.BAD_USER_INPUT,
            ),
          ];
        }
        const rawVariables = payload.variables ?? {};
        const limitError = checkOperation(measureOperation(document, operation, rawVariables), options.limits);
        if (limitError) return [limitError];
        const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], rawVariables, { maxErrors: 25 });
        if (coerced.errors) return withCode(coerced.errors, ErrorCode.BAD_USER_INPUT, hideSuggestions);

        if (!options.hub) {
          return [codeError('Live updates are not available on this server (it has no event bus).', ErrorCode.SERVICE_UNAVAILABLE)];
        }
        // The group's payload, serialized once, becomes this subscription's `next` frame by concatenation.
        const sink = frameSink({ socket: ctx.extra.socket, stream: connection.stream, id, maxBufferedBytes: options.maxBufferedBytes });
        try {
          const plan = planSubscription(schema, document, operation, coerced.coerced, rawVariables, definitions, viewer);
          const stream = await options.hub.subscribe(plan, viewer, sink);
          const contextValue: SubscribeContext = { stream };
          return { schema, document, operationName: payload.operationName, variableValues: rawVariables, contextValue };
        } catch (err) {
          if (err instanceof GraphQLError) return [err];
          throw err;
        }
      },

      subscribe: (args) => (args.contextValue as SubscribeContext).stream,
      // onSubscribe refuses every other operation, so graphql-ws never executes one itself.
      execute: () => {
        throw new Error('Only subscriptions are served over WebSocket.');
      },

      onError: (_ctx, _id, _payload, errors) => errors.map((error) => options.formatError(error.toJSON(), error)),
    },
    wss,
    0,
  );

  // A session that ends (logout, theft detection, role change) closes its sockets within an interval.
  let sweeping = false;
  const sweep = async () => {
    if (sweeping || !options.sessionIsLive) return;
    sweeping = true;
    try {
      const verdicts = new Map<string, Promise<boolean>>();
      for (const [socket, connection] of connections) {
        const viewer = connection.viewer;
        if (!viewer?.sessionId) continue;
        let live = verdicts.get(viewer.sessionId);
        if (!live) {
          live = options.sessionIsLive(viewer).catch(() => true);
          verdicts.set(viewer.sessionId, live);
        }
        if (!(await live)) socket.close(CloseCode.Forbidden, 'Your session has ended. Sign in again.');
      }
    } finally {
      sweeping = false;
    }
  };
  const sweepTimer = options.sessionIsLive ? setInterval(() => void sweep(), options.sessionCheckIntervalMs) : undefined;
  sweepTimer?.unref();

  return {
    connections: () => connections.size,
    async dispose() {
      if (sweepTimer) clearInterval(sweepTimer);
      keepAlive.stop();
      options.httpServer.off('upgrade', onUpgrade);
      await graphqlWs.dispose();
    },
  };
}

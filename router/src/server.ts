import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import { createLogger, ErrorCode, type EventBus, type Logger } from '@shelfwise/kit';
import express from 'express';
import { GraphQLError, MaxIntrospectionDepthRule, type GraphQLSchema } from 'graphql';
import { FetchCounter, SubgraphDataSource, type RouterContext } from './dataSource.js';
import { createViewerResolver, type RouterAuth } from './auth.js';
import { createRouterErrorFormatter } from './errors.js';
import { createKeepAliveFetcher } from './fetcher.js';
import {
  hideSuggestionsPlugin,
  introspectionByDefault,
  operationLimitsPlugin,
  resolveOperationLimits,
  type OperationLimits,
} from './limits.js';
import {
  addressRateLimit,
  clientAddress,
  InMemoryRateLimiter,
  resolveRateLimit,
  userRateLimitPlugin,
  type RateLimiter,
  type RateLimitOptions,
} from './rateLimit.js';
import { SUBSCRIPTION_FIELDS } from './subscriptions/fields.js';
import { SubscriptionHub, type GatewayExecute, type SubscriptionHubStats } from './subscriptions/hub.js';
import { checkSubscriptionFields } from './subscriptions/plan.js';
import { startSubscriptionServer } from './subscriptions/server.js';
import { readSupergraph, subgraphRoutes, type SubgraphRoute } from './supergraph.js';

export { SERVICE_UNAVAILABLE_MESSAGE } from './errors.js';
export { createViewerResolver, SESSION_CHECK_INTERVAL_MS, type RouterAuth } from './auth.js';
export type { RouterContext } from './dataSource.js';
export { subgraphRoutes, readSupergraph, SUPERGRAPH_PATH } from './supergraph.js';
export { createRateLimiter, InMemoryRateLimiter, RedisRateLimiter, type RateLimiter, type RateLimitOptions } from './rateLimit.js';
export { DEFAULT_OPERATION_LIMITS, type OperationLimits } from './limits.js';
export { SLOW_CONSUMER_CLOSE_CODE } from './subscriptions/server.js';
export { MAX_WATCHED_BOOKS } from './subscriptions/fields.js';

/** Subscriptions over WebSocket (graphql-ws at the GraphQL path). */
export interface SubscriptionOptions {
  /** A connection that sends no connection_init within this long is closed with 4408. Default 10 s. */
  connectionInitWaitTimeoutMs?: number;
  /** How often signed-in connections' sessions are checked; an ended one closes with 4403. Default 5 s. */
  sessionCheckIntervalMs?: number;
  /** WebSocket ping interval; a peer that misses a pong for as long is dropped. Default 12 s. */
  keepAliveMs?: number;
  /** A socket with more unsent bytes than this is closed (1013) rather than buffered further. Default 4 MiB. */
  maxBufferedBytes?: number;
}

/** What the router's subscription side holds right now (tests check that nothing is left behind). */
export interface SubscriptionStats extends SubscriptionHubStats {
  /** Open WebSocket connections. */
  connections: number;
}

export interface RouterOptions {
  /** Port to listen on; 0 picks a free one (tests). */
  port?: number;
  /** Interface to bind; all interfaces by default (the router is the public entry point). */
  host?: string;
  /** The composed supergraph SDL; read from supergraph.graphql at the repository root when unset. */
  supergraphSdl?: string;
  /** Routing URL per subgraph name, overriding the supergraph's (e.g. the ports the subgraphs got). */
  subgraphUrls?: Partial<Record<string, string>>;
  /** A built web app to serve at `/` (index.html for every other GET that is not /graphql). */
  clientDir?: string;
  /** Also required by GET /ready when given (the Redis the platform uses for events). */
  redisPing?: () => Promise<void>;
  /** How long GET /ready waits for each subgraph. */
  readinessTimeoutMs?: number;
  // --- Defences (#3) ---
  /** Operation shape limits; unset fields come from SHELFWISE_MAX_* or the defaults (limits.ts). */
  limits?: Partial<OperationLimits>;
  /** Introspection; default on unless NODE_ENV=production. Off also hides "did you mean" suggestions. */
  introspection?: boolean;
  /** Where rate-limit buckets live (Redis to share them between routers); default: in this process. */
  rateLimiter?: RateLimiter;
  /** Requests per minute per address and per user, proxy trust, clock; unset from SHELFWISE_* or defaults. */
  rateLimit?: RateLimitOptions;
  // --- end of defences ---
  /**
   * How to tell who is calling: the access-token key, the live sessions and the clock. Unset: every
   * caller is anonymous and a request with an Authorization header is refused.
   */
  auth?: RouterAuth;
  /**
   * Where the events pushed to subscriptions come from (the platform's bus: Redis pub/sub, or in
   * process). Unset: WebSocket connections are accepted but subscriptions answer SERVICE_UNAVAILABLE.
   */
  bus?: EventBus;
  subscriptions?: SubscriptionOptions;
  logger?: Logger;
}

export interface RouterHandle {
  port: number;
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  url: string;
  /** Where each subgraph is reached. */
  subgraphs: readonly SubgraphRoute[];
  /** Fetches sent to each subgraph since start (or the last reset). */
  fetchCounts: ReadonlyMap<string, number>;
  resetFetchCounts(): void;
  /** Counts of the subscription side (connections, subscriptions, groups, bus subscriptions, work done). */
  subscriptionStats(): SubscriptionStats;
  stop(): Promise<void>;
}

const BODY_LIMIT = '1mb';

/**
 * Starts the router: Apollo Server 5 with @apollo/gateway over a static supergraph at /graphql, GET
 * /health (alive) and GET /ready (every subgraph, and Redis when given, answers), plus the web app
 * when `clientDir` holds a build. Query plans are cached by the gateway (its default LRU store), so a
 * repeated operation costs no planning. `stop()` drains requests, then closes subgraph connections.
 */
export async function startRouter(options: RouterOptions = {}): Promise<RouterHandle> {
  const logger = options.logger ?? createLogger('router');
  // The gateway reports usage to Apollo and probes cloud metadata services unless this is set; keep it
  // off unless the operator explicitly asks otherwise.
  process.env.APOLLO_TELEMETRY_DISABLED ??= 'true';

  const supergraphSdl = options.supergraphSdl ?? readSupergraph();
  const routes = subgraphRoutes(supergraphSdl).map((route) => ({ name: route.name, url: options.subgraphUrls?.[route.name] ?? route.url }));
  const urlOf = new Map(routes.map((route) => [route.name, route.url]));
  const fetcher = createKeepAliveFetcher();
  const counter = new FetchCounter();

  // Defences (#3): operation limits, introspection (off in production), rate limits per address and user.
  const limits = resolveOperationLimits(options.limits);
  const introspection = options.introspection ?? introspectionByDefault();
  const rateLimit = resolveRateLimit(options.rateLimit);
  const rateLimiter = options.rateLimiter ?? new InMemoryRateLimiter();
  const resolveViewer = options.auth ? createViewerResolver(options.auth) : refuseBearerTokens;

  const gateway: ApolloGateway = new ApolloGateway({
    supergraphSdl,
    logger,
    buildService: ({ name, url }) =>
      new SubgraphDataSource({
        name,
        url: urlOf.get(name) ?? url ?? '',
        fetcher: fetcher.fetch,
        counter,
        logger: logger.child({ subgraph: name }),
      }),
  });

  // The API schema (Subscription included) validates and plans subscriptions served over WebSocket.
  let apiSchema: GraphQLSchema | undefined;
  gateway.onSchemaLoadOrUpdate(({ apiSchema: schema }) => {
    apiSchema = schema;
  });

  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const server = new ApolloServer<RouterContext>({
    gateway,
    logger,
    formatError: createRouterErrorFormatter(logger),
    includeStacktraceInErrorResponses: false,
    // Defences (#3): one operation per request, no simple (CSRF-able) requests, bounded introspection.
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    introspection,
    hideSchemaDetailsFromClientErrors: !introspection,
    validationRules: [MaxIntrospectionDepthRule],
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      userRateLimitPlugin<RouterContext>(rateLimiter, rateLimit, logger),
      operationLimitsPlugin<RouterContext>(limits),
      ...(introspection ? [] : [hideSuggestionsPlugin<RouterContext>()]),
    ],
  });
  await server.start();

  // Subscriptions (#9): the fields the router serves must match the supergraph's Subscription type.
  const definitions = SUBSCRIPTION_FIELDS.filter((definition) => apiSchema?.getSubscriptionType()?.getFields()[definition.field]);
  if (apiSchema) checkSubscriptionFields(apiSchema, definitions);
  const executeInternal: GatewayExecute = async (query, variables, viewer) => {
    const response = await server.executeOperation({ query, variables }, { contextValue: { viewer, clientAddress: null, internal: true } });
    if (response.body.kind !== 'single') throw new Error('The gateway answered a subscription event with an incremental result.');
    return response.body.singleResult;
  };
  const hub = options.bus ? new SubscriptionHub({ bus: options.bus, execute: executeInternal, definitions, logger }) : null;
  const auth = options.auth;
  const subscriptionServer = startSubscriptionServer({
    httpServer,
    path: '/graphql',
    schema: () => apiSchema,
    hub,
    definitions,
    resolveViewer,
    sessionIsLive: auth && ((viewer) => auth.sessions.get(viewer.sessionId ?? '', auth.clock.now()).then((session) => session !== null)),
    sessionCheckIntervalMs: options.subscriptions?.sessionCheckIntervalMs ?? 5_000,
    limits,
    introspection,
    rateLimiter,
    rateLimit,
    formatError: createRouterErrorFormatter(logger),
    connectionInitWaitTimeoutMs: options.subscriptions?.connectionInitWaitTimeoutMs ?? 10_000,
    keepAliveMs: options.subscriptions?.keepAliveMs ?? 12_000,
    maxPayloadBytes: 1024 * 1024,
    maxBufferedBytes: options.subscriptions?.maxBufferedBytes ?? 4 * 1024 * 1024,
    logger,
  });

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });

  const readinessTimeoutMs = options.readinessTimeoutMs ?? 2000;
  const probe = async (url: string): Promise<boolean> => {
    try {
      const res = await fetcher.fetch(new URL('/ready', url).toString(), {
        method: 'GET',
        signal: AbortSignal.timeout(readinessTimeoutMs),
      });
      return res.ok;
    } catch {
      return false;
    }
  };
  app.get('/ready', async (_req, res) => {
    const checks = routes.map(async (route) => ((await probe(route.url)) ? null : route.name));
    if (options.redisPing) {
      const ping = options.redisPing;
      checks.push(
        ping().then(
          () => null,
          () => 'redis',
        ),
      );
    }
    const notReady = (await Promise.all(checks)).filter((name): name is string => name !== null);
    if (notReady.length === 0) {
      res.json({ status: 'ready' });
      return;
    }
    logger.warn({ notReady }, 'readiness check failed');
    res.status(503).json({ status: 'unavailable', notReady });
  });

  // Defences (#3): the address bucket is charged before the body is read.
  app.use('/graphql', addressRateLimit(rateLimiter, rateLimit, logger));

  app.use(
    '/graphql',
    express.json({ limit: BODY_LIMIT }),
    expressMiddleware(server, {
      context: async ({ req }): Promise<RouterContext> => ({
        viewer: await resolveViewer(req.headers),
        clientAddress: clientAddress(req, rateLimit.trustProxy),
      }),
    }),
  );

  if (options.clientDir && existsSync(path.join(options.clientDir, 'index.html'))) {
    const indexHtml = path.resolve(options.clientDir, 'index.html');
    app.use(express.static(options.clientDir, { index: 'index.html' }));
    // Client-side routes: any other GET that is not the API gets the app, which routes it itself.
    app.use((req, res, next) => {
      if ((req.method !== 'GET' && req.method !== 'HEAD') || req.path === '/graphql' || req.path.startsWith('/graphql/')) {
        next();
        return;
      }
      res.sendFile(indexHtml);
    });
  }

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port ?? 4000, options.host ?? '0.0.0.0', () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const host = options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/graphql`;
  logger.info({ url, subgraphs: routes.map((r) => r.name) }, 'router ready');

  let stopping: Promise<void> | undefined;
  return {
    port,
    url,
    subgraphs: routes,
    fetchCounts: counter.counts,
    resetFetchCounts: () => counter.reset(),
    subscriptionStats: () => ({
      connections: subscriptionServer.connections(),
      ...(hub?.stats() ?? {
        subscribers: 0,
        groups: 0,
        busSubscriptions: 0,
        events: 0,
        gatewayExecutions: 0,
        framesSent: 0,
        payloadsSerialized: 0,
      }),
    }),
    stop() {
      stopping ??= (async () => {
        // Sockets first (clients get 1001 and reconnect elsewhere), then the bus subscriptions.
        await subscriptionServer.dispose();
        await hub?.dispose();
        await server.stop();
        fetcher.destroy();
      })();
      return stopping;
    },
  };
}

/** A router without `auth` serves anonymous callers only; a bearer token there is a configuration error. */
async function refuseBearerTokens(headers: http.IncomingHttpHeaders): Promise<null> {
  if (headers.authorization) {
    throw new GraphQLError('Sign-in is not available on this server.', {
      extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401 } },
    });
  }
  return null;
}

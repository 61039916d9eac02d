import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type BaseContext } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import { ApolloServerPluginUsageReportingDisabled, ApolloServerPluginSchemaReportingDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import express from 'express';
import type { DocumentNode } from 'graphql';
import { withAccessRules, type AccessRules } from './access.js';
import type { EventBus } from './bus.js';
import { createErrorFormatter, ErrorCode } from './errors.js';
import { attachCaller, CALLER_HEADER, verifyCredential } from './trust.js';
import type { Logger } from './logger.js';
import type { ServiceOptions } from './runtime.js';

export interface SubgraphHandle {
  name: string;
  port: number;
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4002/graphql. */
  url: string;
  stop(): Promise<void>;
}

export interface StartSubgraphOptions<TContext extends BaseContext> {
  name: string;
  typeDefs: DocumentNode;
  resolvers: GraphQLResolverMap<TContext>;
  /** Who may see each field (src/resolvers/access.ts); every field of `typeDefs` needs a rule. */
  access: AccessRules;
  /** Port to listen on; 0 picks a free one (tests). */
  port: number;
  /** Interface to bind; loopback by default. */
  host?: string;
  logger: Logger;
  /** Builds the per-request context (fresh DataLoaders every request). */
  context(req: http.IncomingMessage): Promise<TContext>;
  /** Throws when a dependency (the database) does not answer; drives GET /ready. */
  ready(): Promise<void>;
  /** The service's event bus; GET /ready also requires it to answer (Redis, when configured). */
  bus?: EventBus;
  /** Runs after the HTTP server has drained: close databases and connections here. */
  onStop?(): Promise<void>;
}

/** Reads the JSON body limit once: GraphQL documents and `_entities` batches stay well under it. */
const BODY_LIMIT = '1mb';

/**
 * Starts one subgraph: Apollo Server 5 on express with the federated schema at /graphql, GET /health
 * (alive) and GET /ready (dependencies answer). Usage reporting, schema reporting, inline tracing and
 * cache-control hints are off. `stop()` stops accepting requests, lets running ones finish, then calls `onStop`.
 */
export async function startSubgraph<TContext extends BaseContext>(options: StartSubgraphOptions<TContext>): Promise<SubgraphHandle> {
  const app = express();
  app.disable('x-powered-by');
  const httpServer = http.createServer(app);
  const resolvers = withAccessRules(options.typeDefs, options.resolvers as Record<string, unknown>, options.access);
  const schema = buildSubgraphSchema([{ typeDefs: options.typeDefs, resolvers: resolvers as GraphQLResolverMap<unknown> }]);
  const server = new ApolloServer<TContext>({
    schema,
    formatError: createErrorFormatter(options.logger),
    includeStacktraceInErrorResponses: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginUsageReportingDisabled(),
      ApolloServerPluginSchemaReportingDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      // No schema declares cache hints and the router ignores them: without this, Apollo wraps every field
      // resolver to compute a cache policy (measured ~8% of a catalogue search's CPU, docs/benchmarks.md).
      ApolloServerPluginCacheControlDisabled(),
    ],
  });
  await server.start();

  app.get('/health', (_req, res) => {
    res.json({ status: 'ok', service: options.name });
  });
  app.get('/ready', async (_req, res) => {
    try {
      await Promise.all([options.ready(), options.bus?.ping()]);
      res.json({ status: 'ready', service: options.name });
    } catch (err) {
      options.logger.warn({ err }, 'readiness check failed');
      res.status(503).json({ status: 'unavailable', service: options.name });
    }
  });
  // Subgraphs do not trust the network: only a request carrying the router's (or, for an internal call, a
  // service's) signed credential reaches GraphQL (`_entities` and `_service` included); anything else is
  // refused before any resolver runs.
  app.use('/graphql', (req, res, next) => {
    const header = req.headers[CALLER_HEADER];
    const caller = verifyCredential(Array.isArray(header) ? header[0] : header);
    if (!caller) {
      res.status(401).json({
        errors: [
          {
            message: 'This service answers only the Shelfwise router. Send your request to the router at /graphql.',
            extensions: { code: ErrorCode.UNAUTHENTICATED },
          },
        ],
      });
      return;
    }
    attachCaller(req, caller);
    next();
  });
  app.use('/graphql', express.json({ limit: BODY_LIMIT }), expressMiddleware(server, { context: async ({ req }) => options.context(req) }));

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const host = options.host && options.host !== '0.0.0.0' && options.host !== '::' ? options.host : '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/graphql`;
  options.logger.info({ url }, `${options.name} subgraph ready`);

  let stopping: Promise<void> | undefined;
  return {
    name: options.name,
    port,
    url,
    stop() {
      stopping ??= (async () => {
        await server.stop();
        await options.onStop?.();
      })();
      return stopping;
    },
  };
}

/** Stops `handle` on SIGINT/SIGTERM, then exits. For src/index.ts of each service. */
export function stopOnSignals(stop: () => Promise<void>, logger: Logger): void {
  let done = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (done) return;
    done = true;
    logger.info({ signal }, 'shutting down');
    stop()
      .then(() => process.exit(0))
      .catch((err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
}

export interface ServeSubgraphOptions<TContext extends BaseContext> extends Omit<
  StartSubgraphOptions<TContext>,
  'port' | 'host' | 'ready' | 'bus' | 'onStop'
> {
  /** The service's options: port, bind host and bus. */
  service: ServiceOptions;
  /** The service's own database: readiness pings it, stop (or a failed start) closes it. */
  database: { db: { ping(): Promise<void> }; close(): Promise<void> };
}

/**
 * {@link startSubgraph} for a subgraph over its own database: port, host and bus from the service's
 * options, GET /ready pinging the database, `stop()` closing it — and closing it too when serving fails.
 */
export async function serveSubgraph<TContext extends BaseContext>(options: ServeSubgraphOptions<TContext>): Promise<SubgraphHandle> {
  const { service, database, ...rest } = options;
  try {
    return await startSubgraph({
      ...rest,
      port: service.port ?? 0,
      host: service.host,
      ready: () => database.db.ping(),
      bus: service.bus,
      onStop: () => database.close(),
    });
  } catch (err) {
    await database.close().catch(() => undefined);
    throw err;
  }
}

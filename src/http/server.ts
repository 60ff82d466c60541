import type { ApolloServerPlugin } from '@apollo/server';
import fastify, {
  type FastifyBaseLogger,
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { GraphQLSchema } from 'graphql';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Database, DatabaseHandle } from '../db/client.js';
import { authenticate, type JwtSettings } from '../auth/authenticate.js';
import type { Principal } from '../auth/principal.js';
import { ErrorCode, UnauthenticatedError, invariant } from '../errors.js';
import { createRequestContext, type ContextDeps, type RequestContext } from '../graphql/context.js';
import type { LoaderOptions } from '../loaders/createLoaders.js';
import type { Logger } from '../logger.js';
import type { EntryPolicies } from '../cache/entryPolicies.js';
import type { L2Cache } from '../cache/l2Cache.js';
import type { CachePolicyMap } from '../policy/cachePolicy.js';
import type { Config } from '../config.js';
import type { TrustedOperation } from '../persisted/trustedDocuments.js';
import { createAuditLog } from '../audit/auditLog.js';
import { measureAuditLog } from '../audit/measuredAuditLog.js';
import { gateGraphqlRequest } from './persistedQueries.js';
import { checkBreakGlass } from './breakGlass.js';
import { createGraphqlHandler } from './graphqlHandler.js';
import { createDocumentStore } from './documentStore.js';
import { createRequestLog } from './requestLog/createRequestLog.js';
import { createClientErrorHandler } from './clientError.js';
import { createApollo } from './createApollo.js';
import { handleHttpError } from './httpErrorHandler.js';
import { graphqlErrorBody } from './graphqlErrorBody.js';
import type { Metrics } from './metrics.js';
import { registerMetricsRoute } from './metricsEndpoint.js';
import { registerCors } from './cors.js';
import { registerExplorer } from './explorer/index.js';
import { traceAuditLog } from '../tracing/auditSpans.js';
import { NO_TRACING, type Tracing } from '../tracing/createTracing.js';
import { traceOperations } from '../tracing/operationSpans.js';
import { traceRequests } from '../tracing/requestSpans.js';

export interface ServerDeps {
  readonly schema: GraphQLSchema;
  /** The cache's figures for a tenant (the `cacheStats` query). */
  readonly cacheStats?: ContextDeps['cacheStats'];
  readonly policies: CachePolicyMap;
  readonly entryPolicies: EntryPolicies;
  readonly l2: L2Cache;
  readonly db: Database;
  /** The database's prepared statements: the audit commit of every read goes through them. */
  readonly database: Pick<DatabaseHandle, 'executePrepared' | 'countStatements'>;
  readonly jwt: JwtSettings;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly introspection: boolean;
  readonly maxBodyBytes: number;
  readonly requestTimeoutMs: number;
  readonly maxQueryLength: number;
  /** The persisted-query manifest, prepared at start-up, and who must use it. */
  readonly trusted: ReadonlyMap<string, TrustedOperation>;
  readonly persistedQueries: Config['persistedQueries'];
  readonly limits: Config['limits'];
  /** Whether a browser's GET of /graphql gets the explorer page. */
  readonly explorer: boolean;
  /** Origins whose browsers may call the API (CORS); empty: none. */
  readonly corsOrigins: ReadonlyArray<string>;
  /** Departures from the production wiring, for the benchmark's baselines only. */
  readonly variant?: ServerVariant;
  /**
   * What /metrics answers, as Prometheus text: this process's registry when omitted. A cluster
   * worker answers the sum over every worker.
   */
  readonly scrapeMetrics?: () => Promise<string>;
  /** False when /metrics has a listener of its own (METRICS_PORT): this one answers it 404. */
  readonly serveMetrics?: boolean;
  /** Resolves when every dependency answers; rejects otherwise. */
  readonly checkReadiness: () => Promise<Record<string, 'up' | 'degraded'>>;
  /** Spans of `/graphql` requests, their operations and audit commits; off when omitted. */
  readonly tracing?: Tracing;
}

/**
 * What the benchmark's baselines change. No configuration reaches these: production always runs
 * with batching, its own Cache-Control and the audit trail.
 */
export interface ServerVariant {
  /** Batching and L1 off: the N+1 baseline. */
  readonly loaderOptions?: LoaderOptions;
  /** False leaves PHI reads unaudited: the audit on/off pair. */
  readonly audit?: boolean;
  /**
   * Apollo's whole-response cache, under Apollo's own cache control read from `@cacheControl`,
   * in place of caregraph's Cache-Control: the "peer" a team would otherwise pick.
   */
  readonly responseCache?: ReadonlyArray<ApolloServerPlugin<RequestContext>>;
}

const GRAPHQL_PATH = '/graphql';
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Creates the HTTP server: `/graphql` (GET and POST) through Apollo Server, plus `/healthz`,
 * `/readyz` and `/metrics` (unless `serveMetrics` is false). Call `ready()` or `listen()` on the
 * result.
 */
export async function createServer(deps: ServerDeps): Promise<FastifyInstance> {
  // Fastify's instance type is generic in its logger; the base type keeps it the default one.
  const logger: FastifyBaseLogger = deps.logger;
  const app = fastify({
    loggerInstance: logger,
    // Fastify's request lines would log URLs, and a GET query string can carry PHI in its
    // variables: the request log (requestLog/) writes lines of its own instead.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.maxBodyBytes,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID_PATTERN.test(given) ? given : randomUUID();
    },
    // A request, body included, must arrive in time: a stalled body holds a socket otherwise.
    requestTimeout: deps.requestTimeoutMs,
    // Node answers a request without Host with an empty 400 of its own; the onRequest hook
    // answers it with a code instead.
    http: {
      requireHostHeader: false,
      // Node 20 only honours a request timeout given when the server is built (Fastify sets
      // its own afterwards, too late), and checks it on this interval (30 s by default).
      requestTimeout: deps.requestTimeoutMs,
      headersTimeout: Math.min(60_000, deps.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(5_000, Math.ceil(deps.requestTimeoutMs / 2)),
    },
    // Refusals of the HTTP parser and of a closing server carry a code like every other error.
    clientErrorHandler: createClientErrorHandler(deps.logger),
    // A URL that does not decode: Fastify's own answer would echo it, and a URL may hold PHI.
    frameworkErrors: (_error, _request, reply) => {
      // Fastify types this reply by its default route generics, which send() cannot satisfy.
      void (reply as FastifyReply)
        .code(400)
        .header('cache-control', 'no-store')
        .send(graphqlErrorBody('Malformed URL', ErrorCode.BadRequest));
    },
    return503OnClosing: false,
  });

  const tracing = deps.tracing ?? NO_TRACING;
  // First of the hooks: the request's span covers its refusals too.
  traceRequests(app, tracing, GRAPHQL_PATH);
  const auditLog = traceAuditLog(
    measureAuditLog(createAuditLog(deps.database), deps.metrics),
    tracing,
  );
  const documents = createDocumentStore(deps.schema, deps.trusted);
  const apollo = createApollo(deps, documents, tracing);
  // Node answers an Expect it does not know with an empty 417; this one carries a code.
  app.server.on('checkExpectation', (_request: IncomingMessage, response: ServerResponse) => {
    const body = JSON.stringify(
      graphqlErrorBody('Only Expect: 100-continue is supported', ErrorCode.BadRequest),
    );
    response
      .writeHead(417, {
        'content-type': 'application/json; charset=utf-8',
        'cache-control': 'no-store',
      })
      .end(body);
  });
  await apollo.start();
  // fastify.close() stops accepting connections and waits for in-flight requests; Apollo stops
  // once they are done.
  app.addHook('onClose', async () => {
    await apollo.stop();
  });

  // While draining, every response closes its connection, so that keep-alive sockets do not
  // hold the shutdown open until their idle timeout.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (request.headers.host === undefined && request.raw.httpVersion !== '1.0') {
      return reply
        .code(400)
        .header('cache-control', 'no-store')
        .send(graphqlErrorBody('An HTTP/1.1 request needs a Host header', ErrorCode.BadRequest));
    }
    // Requests that arrive while draining are turned away, for the load balancer to retry
    // elsewhere; those already in flight finish.
    if (closing && request.routeOptions.url !== '/healthz') {
      return reply
        .code(503)
        .header('cache-control', 'no-store')
        .header('connection', 'close')
        .send(graphqlErrorBody('The server is shutting down', ErrorCode.ShuttingDown));
    }
    return undefined;
  });
  app.addHook('onResponse', async (request, reply) => {
    deps.metrics.httpRequestDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
  // After the hooks above, which every request passes; before authentication, which a preflight
  // and the explorer page (no token on either) would fail.
  await registerCors(app, deps.corsOrigins);
  if (deps.explorer) registerExplorer(app, { graphqlPath: GRAPHQL_PATH, logger: deps.logger });
  // GraphQL requests are JSON (or GET); anything else is refused as 415 rather than half-parsed.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(handleHttpError);
  app.setNotFoundHandler((_request, reply) =>
    reply.code(404).send(graphqlErrorBody('Not found', ErrorCode.NotFound)),
  );

  const gate = {
    schema: deps.schema,
    trusted: deps.trusted,
    documents,
    mode: deps.persistedQueries.mode,
    mobileClientNames: deps.persistedQueries.mobileClientNames,
    limits: deps.limits,
    maxQueryLength: deps.maxQueryLength,
  };
  // Authentication runs before Apollo, so that a request without a valid token gets 401 over
  // GET as over POST (Apollo's CSRF check would otherwise answer a bare GET first).
  const principals = new WeakMap<FastifyRequest, Principal>();
  const breakGlass = new WeakMap<FastifyRequest, string>();
  const requestLog = createRequestLog({
    logger: deps.logger,
    countStatements: (work) => deps.database.countStatements(work),
    principalOf: (request) => principals.get(request),
    breakGlassOf: (request) => breakGlass.get(request),
  });
  requestLog.install(app);
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.url !== GRAPHQL_PATH) return undefined;
    try {
      principals.set(request, await authenticate(request.headers.authorization, deps.jwt));
    } catch (error) {
      if (!(error instanceof UnauthenticatedError)) throw error;
      requestLog.noteUnauthenticated(request, error.reason);
      return reply
        .code(401)
        .header('cache-control', 'no-store')
        .header('www-authenticate', 'Bearer')
        .send(graphqlErrorBody(error.message, ErrorCode.Unauthenticated));
    }
    // Requests refused here never reach GraphQL; onSend marks them no-store.
    // Raw headers: a repeated X-Break-Glass is refused, never joined into one reason.
    const emergency = checkBreakGlass(request.raw.rawHeaders, principals.get(request));
    const refusal = emergency.refusal ?? gateGraphqlRequest(request, gate);
    if (refusal !== undefined) {
      return reply.code(refusal.status).send(graphqlErrorBody(refusal.message, refusal.code));
    }
    if (emergency.reason !== undefined) breakGlass.set(request, emergency.reason);
    return undefined;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    // Responses that never reached GraphQL execution (401, 413, 400) are never cacheable.
    if (request.routeOptions.url === GRAPHQL_PATH && !reply.hasHeader('cache-control')) {
      reply.header('cache-control', 'no-store');
    }
    return payload;
  });

  app.route({
    url: GRAPHQL_PATH,
    method: ['GET', 'POST'],
    handler: createGraphqlHandler({
      apollo: traceOperations(apollo, tracing),
      auditLog,
      auditEvents: deps.metrics.auditEvents,
      logger: deps.logger,
      audit: deps.variant?.audit !== false,
      fresh: () => deps.l2.fresh(),
      onContexts: requestLog.noteContexts,
      contextFor: (request) => {
        const principal = principals.get(request);
        invariant(principal !== undefined, 'the preHandler authenticates every GraphQL request');
        return createRequestContext(
          {
            db: deps.db,
            l2: deps.l2,
            entryPolicies: deps.entryPolicies,
            logger: deps.logger,
            loaderOptions: deps.variant?.loaderOptions,
            ...(deps.cacheStats === undefined ? {} : { cacheStats: deps.cacheStats }),
          },
          {
            requestId: request.id,
            principal,
            clientAddress: request.ip,
            breakGlassReason: breakGlass.get(request),
            lookups: requestLog.lookupsOf(request),
          },
        );
      },
    }),
  });

  app.get('/healthz', () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      const checks = await deps.checkReadiness();
      const degraded = Object.values(checks).includes('degraded');
      return { status: degraded ? 'degraded' : 'ready', checks };
    } catch {
      return reply.code(503).send({ status: 'unavailable' });
    }
  });
  // With METRICS_PORT, /metrics is served on that listener alone (metricsEndpoint.ts).
  if (deps.serveMetrics !== false) {
    registerMetricsRoute(app, {
      registry: deps.metrics.registry,
      scrapeMetrics: deps.scrapeMetrics,
      logger: deps.logger,
    });
  }

  return app;
}

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../../auth/principal.js';
import type { DatabaseHandle } from '../../db/client.js';
import type { UnauthenticatedReason } from '../../errors.js';
import type { RequestContext } from '../../graphql/context.js';
import { createLookupTally, type LookupTally } from '../../loaders/lookupTally.js';
import type { Logger } from '../../logger.js';
import { clientLabelOf } from './labels.js';
import {
  buildCacheDetail,
  buildGraphqlFields,
  createRequestRecord,
  errorCodesOfBody,
  type RequestRecord,
} from './requestLine.js';

export interface RequestLogDeps {
  readonly logger: Logger;
  /** Counts the SQL statements of the route handler (`DatabaseHandle.countStatements`). */
  readonly countStatements: DatabaseHandle['countStatements'];
  /** The caller, once the preHandler has authenticated the request. */
  readonly principalOf: (request: FastifyRequest) => Principal | undefined;
  /** The break-glass reason the request carried, once the preHandler has accepted it. */
  readonly breakGlassOf: (request: FastifyRequest) => string | undefined;
}

/** The request log (SPEC §7): one line per request, and one more for each break-glass use. */
export interface RequestLog {
  /**
   * Adds the hooks that open a request's record and write its line when the response is sent,
   * and counts the SQL statements of the `/graphql` handler. Call it before that route is added.
   */
  readonly install: (app: FastifyInstance) => void;
  /** The request's lookup counts, for the contexts of its operations. */
  readonly lookupsOf: (request: FastifyRequest) => LookupTally | undefined;
  /** The operations' contexts, as the handler fills them; a later call (a rerun) replaces them. */
  readonly noteContexts: (
    request: FastifyRequest,
    contexts: ReadonlyArray<RequestContext | undefined>,
  ) => void;
  /** Why the request's bearer token was refused (401). */
  readonly noteUnauthenticated: (request: FastifyRequest, reason: UnauthenticatedReason) => void;
}

const GRAPHQL_PATH = '/graphql';
// Probes come every few seconds from every load balancer and scraper: not worth an info line.
const PROBES: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Creates the request log. Every request gets one line when its response has been sent:
 * `/graphql` at info with what it ran and cost, probes at debug, anything else at info. A line
 * holds the route, never the URL (a GET's query string carries its variables), and no header
 * but the client's name and version, sanitised. With debug on, a `/graphql` request also gets
 * a line when it arrives and one with its lookups by type.
 */
export function createRequestLog(deps: RequestLogDeps): RequestLog {
  const records = new WeakMap<FastifyRequest, RequestRecord>();
  const logged = new WeakSet<FastifyRequest>();
  const writeOnce = (request: FastifyRequest, reply: FastifyReply, aborted: boolean): void => {
    if (logged.has(request)) return;
    logged.add(request);
    writeLine(deps, request, reply, records.get(request), aborted);
  };
  return {
    install: (app) => {
      // The handler runs inside a statement count of its own (an AsyncLocalStorage, so that
      // concurrent requests never count each other's statements).
      app.addHook('onRoute', (route) => {
        if (route.url !== GRAPHQL_PATH) return;
        const handler = route.handler;
        route.handler = async function (this: FastifyInstance, request, reply) {
          const counted = await deps.countStatements(() =>
            Promise.resolve(handler.call(this, request, reply)),
          );
          const record = records.get(request);
          if (record !== undefined) record.statements = counted.statements;
          // A client gone before its answer gets no response, so no onResponse: its line is
          // written here, once the work it asked for (audited, maybe) is done.
          if (request.raw.socket.destroyed && !reply.raw.writableFinished) {
            writeOnce(request, reply, true);
          }
          return counted.value;
        };
      });
      app.addHook('onRequest', (request, _reply, done) => {
        if (request.routeOptions.url === GRAPHQL_PATH) {
          records.set(request, createRequestRecord(createLookupTally()));
          request.log.debug({ method: request.method, route: GRAPHQL_PATH }, 'request received');
        }
        done();
      });
      app.addHook('onSend', (request, reply, payload, done) => {
        const record = records.get(request);
        if (record !== undefined && reply.statusCode >= 400) {
          record.refusalCodes = errorCodesOfBody(payload);
        }
        done(null, payload);
      });
      app.addHook('onResponse', (request, reply, done) => {
        try {
          writeOnce(request, reply, false);
        } finally {
          done();
        }
      });
    },
    lookupsOf: (request) => records.get(request)?.lookups,
    noteContexts: (request, contexts) => {
      const record = records.get(request);
      if (record === undefined) return;
      record.contexts = contexts;
    },
    noteUnauthenticated: (request, reason) => {
      const record = records.get(request);
      if (record !== undefined) record.unauthenticated = reason;
    },
  };
}

function writeLine(
  deps: RequestLogDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  record: RequestRecord | undefined,
  aborted: boolean,
): void {
  const route = request.routeOptions.url ?? 'unmatched';
  const common = {
    method: request.method,
    route,
    // 499, as proxies write it: the client closed the connection before its answer.
    status: aborted ? 499 : reply.statusCode,
    ...(aborted ? { aborted: true } : {}),
    durationMs: Math.round(reply.elapsedTime * 100) / 100,
    // The request's trace, when tracing is on: the line and its spans find each other.
    ...(request.traceId === undefined ? {} : { traceId: request.traceId }),
  };
  if (record === undefined) {
    if (PROBES.has(route)) request.log.debug(common, 'request completed');
    else request.log.info(common, 'request completed');
    return;
  }
  const principal = deps.principalOf(request);
  const reason = deps.breakGlassOf(request);
  const clientName = clientLabelOf(request.headers['apollographql-client-name']);
  const clientVersion = clientLabelOf(request.headers['apollographql-client-version']);
  request.log.info(
    {
      ...common,
      ...(clientName === undefined ? {} : { clientName }),
      ...(clientVersion === undefined ? {} : { clientVersion }),
      ...buildGraphqlFields(record, principal, batchSizeOf(request)),
      ...(reason === undefined ? {} : { breakGlass: true }),
    },
    'request completed',
  );
  if (deps.logger.isLevelEnabled('debug')) {
    request.log.debug({ cache: buildCacheDetail(record.lookups) }, 'request cache detail');
  }
  if (reason !== undefined && principal !== undefined) {
    // The reason is free text a clinician typed, and may name the patient or their condition:
    // the audit trail keeps it; the log keeps its length.
    request.log.warn(
      {
        actor: principal.userId,
        role: principal.role,
        tenant: principal.tenantId,
        reasonLength: Array.from(reason).length,
        status: reply.statusCode,
      },
      'break-glass access',
    );
  }
}

/** The number of operations of a batched request; undefined for a single operation. */
function batchSizeOf(request: FastifyRequest): number | undefined {
  const { body } = request;
  return request.method === 'POST' && Array.isArray(body) ? body.length : undefined;
}

import { HeaderMap, type ApolloServer, type HTTPGraphQLResponse } from '@apollo/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import type { AuditLog } from '../audit/auditLog.js';
import { AuditUnavailableError, ErrorCode } from '../errors.js';
import type { RequestContext } from '../graphql/context.js';
import { describeError, type Logger } from '../logger.js';
import { headersOf, mostRestrictive, type HttpCachePolicy } from './cacheControl/headers.js';
import { graphqlErrorBody } from './graphqlErrorBody.js';

export interface GraphqlHandlerDeps {
  readonly apollo: ApolloServer<RequestContext>;
  /** Builds the context of one operation of the request (a batch has one per operation). */
  readonly contextFor: (request: FastifyRequest) => RequestContext;
  readonly auditLog: AuditLog;
  readonly auditEvents: Counter;
  readonly logger: Logger;
  /** False only for the benchmark's audit-off baseline. */
  readonly audit: boolean;
}

/**
 * The `/graphql` route. Each operation runs through Apollo with a context of its own, and the
 * request, single or batched, is answered whole:
 * - the audit events of every operation are committed in one INSERT before anything is sent,
 *   and if that fails no operation's data is sent (503, AUDIT_UNAVAILABLE), so an audit row
 *   exists for every PHI entity served, and only for those;
 * - a batch gets the most restrictive Cache-Control of its operations, never the last one's.
 */
export function createGraphqlHandler(deps: GraphqlHandlerDeps) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<string> => {
    // One slot per operation: an operation refused before its context was built keeps none.
    const contexts: Array<RequestContext | undefined> = [];
    const contextOf = (slot: number) => (): Promise<RequestContext> => {
      const created = deps.contextFor(request);
      contexts[slot] = created;
      return Promise.resolve(created);
    };
    const head = httpGraphQLRequestOf(request);
    const pieces = request.method === 'POST' && Array.isArray(request.body) ? request.body : null;

    let response: HTTPGraphQLResponse;
    if (pieces === null) {
      response = await deps.apollo.executeHTTPGraphQLRequest({
        httpGraphQLRequest: head,
        context: contextOf(0),
      });
    } else if (pieces.length === 0) {
      return send(reply, 400, graphqlErrorBody('The batch is empty', ErrorCode.BadRequest));
    } else {
      const responses = await Promise.all(
        pieces.map((body: unknown, slot) =>
          deps.apollo.executeHTTPGraphQLRequest({
            httpGraphQLRequest: { ...head, body },
            context: contextOf(slot),
          }),
        ),
      );
      response = mergeBatch(responses, contexts);
    }

    if (deps.audit && !(await commitAudit(deps, contexts))) {
      const refusal = graphqlErrorBody(
        new AuditUnavailableError().message,
        ErrorCode.AuditUnavailable,
      );
      return send(reply, 503, pieces === null ? refusal : pieces.map(() => refusal));
    }
    for (const [name, value] of response.headers) void reply.header(name, value);
    void reply.code(response.status ?? 200);
    // graphql-js 16 cannot defer or stream, so every Apollo response here is complete.
    return response.body.kind === 'complete' ? response.body.string : '';
  };
}

/**
 * Commits every operation's buffered events together: one unit, so that a batch is audited
 * whole or not at all.
 *
 * @returns false when the events could not be written; the response must then be withheld.
 */
async function commitAudit(
  deps: GraphqlHandlerDeps,
  contexts: ReadonlyArray<RequestContext | undefined>,
): Promise<boolean> {
  const rows = contexts.flatMap((context) => context?.audit.drain() ?? []);
  try {
    await deps.auditLog.append(rows);
    deps.auditEvents.inc(rows.length);
    return true;
  } catch (error) {
    deps.logger.error(
      { err: describeError(error), events: rows.length },
      'audit events could not be written; response withheld',
    );
    return false;
  }
}

/**
 * One response for a batch: the operations' bodies in order, the highest status any of them
 * has, and the most restrictive caching policy of them all.
 */
function mergeBatch(
  responses: ReadonlyArray<HTTPGraphQLResponse>,
  contexts: ReadonlyArray<RequestContext | undefined>,
): HTTPGraphQLResponse {
  const headers = new HeaderMap();
  for (const response of responses) {
    for (const [name, value] of response.headers) {
      if (!headers.has(name)) headers.set(name, value);
    }
  }
  headers.delete('cache-control');
  headers.delete('pragma');
  // An operation that failed before its context was built (a malformed piece) set no policy:
  // it counts as no-store.
  const policies = responses.map((_, i): HttpCachePolicy => {
    const context = contexts[i];
    return context?.outcome.cachePolicy ?? { kind: 'noStore', pragma: false };
  });
  for (const [name, value] of headersOf(mostRestrictive(policies))) headers.set(name, value);
  const bodies = responses.map((r) => (r.body.kind === 'complete' ? r.body.string : 'null'));
  return {
    status: Math.max(200, ...responses.map((r) => r.status ?? 200)),
    headers,
    body: { kind: 'complete', string: `[${bodies.join(',')}]` },
  };
}

function httpGraphQLRequestOf(request: FastifyRequest) {
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  return {
    method: request.method.toUpperCase(),
    headers,
    // Parsed as the gate parses it (a fragment is dropped), so both read the same operation.
    search: new URL(request.url, 'http://localhost').search,
    body: request.body,
  };
}

/** A refusal the handler answers itself: never cacheable, and no operation's data. */
function send(reply: FastifyReply, status: number, body: unknown): string {
  void reply
    .code(status)
    .header('content-type', 'application/json; charset=utf-8')
    .header('cache-control', 'no-store');
  return JSON.stringify(body);
}

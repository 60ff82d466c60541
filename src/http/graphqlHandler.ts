import { HeaderMap, type ApolloServer, type HTTPGraphQLResponse } from '@apollo/server';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import type { AuditLog } from '../audit/auditLog.js';
import { AuditUnavailableError, DatabaseUnavailableError, ErrorCode } from '../errors.js';
import type { RequestContext } from '../graphql/context.js';
import { describeError, type Logger } from '../logger.js';
import { headersOf, mostRestrictive, type HttpCachePolicy } from './cacheControl/headers.js';
import { graphqlErrorBody } from './graphqlErrorBody.js';

export interface GraphqlHandlerDeps {
  readonly apollo: Pick<ApolloServer<RequestContext>, 'executeHTTPGraphQLRequest'>;
  /** Builds the context of one operation of the request (a batch has one per operation). */
  readonly contextFor: (request: FastifyRequest) => RequestContext;
  readonly auditLog: AuditLog;
  readonly auditEvents: Counter;
  readonly logger: Logger;
  /** False only for the benchmark's audit-off baseline. */
  readonly audit: boolean;
  /** Whether this process hears every committed invalidation lately (`L2Cache.fresh`). */
  readonly fresh: () => boolean;
  /** Told of the operations' contexts as they are built, for the request log. */
  readonly onContexts?: (
    request: FastifyRequest,
    contexts: ReadonlyArray<RequestContext | undefined>,
  ) => void;
}

/** How long a response served partly from L2 waits for the feed to prove it is current. */
const CONFIRM_WAIT_MS = 1_000;
/**
 * How long the operations may run, and their audit commit take, before the request is answered
 * 503: a Postgres that stops answering without dropping its connections (a stall) would
 * otherwise hold the request for as long as the stall lasts. postgres.js has no statement
 * timeout of its own; the statement goes on, and its result is dropped.
 */
export const EXECUTION_TIMEOUT_MS = 10_000;
const TIMED_OUT = Symbol('timed out');

function within<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  // Past the timeout nobody awaits the work; a late failure of it must not go unhandled.
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => {
      resolve(TIMED_OUT);
    }, ms);
  });
  return Promise.race([work, timeout]).finally(() => {
    clearTimeout(timer);
  });
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
    const head = httpGraphQLRequestOf(request);
    const pieces = request.method === 'POST' && Array.isArray(request.body) ? request.body : null;

    if (pieces !== null && pieces.length === 0) {
      return send(reply, 400, graphqlErrorBody('The batch is empty', ErrorCode.BadRequest));
    }
    const started = performance.now();
    // One slot per operation: an operation refused before its context was built keeps none.
    let contexts: Array<RequestContext | undefined> = [];
    const execute = () => {
      const slots: Array<RequestContext | undefined> = [];
      contexts = slots;
      deps.onContexts?.(request, slots);
      const contextOf = (slot: number) => (): Promise<RequestContext> => {
        const created = deps.contextFor(request);
        slots[slot] = created;
        return Promise.resolve(created);
      };
      return pieces === null
        ? deps.apollo.executeHTTPGraphQLRequest({
            httpGraphQLRequest: head,
            context: contextOf(0),
          })
        : Promise.all(
            pieces.map((body: unknown, slot) =>
              deps.apollo.executeHTTPGraphQLRequest({
                httpGraphQLRequest: { ...head, body },
                context: contextOf(slot),
              }),
            ),
          ).then((responses) => mergeBatch(responses, slots));
    };
    let executed = await within(execute(), EXECUTION_TIMEOUT_MS);
    // What it read from L2 was superseded while it ran (a write another instance committed,
    // heard meanwhile): queries only run once more, from Postgres for those scopes; their first
    // run's audit events are dropped with its answer. Anything that may have written is not.
    if (
      executed !== TIMED_OUT &&
      contexts.every((context) => context?.outcome.query === true) &&
      contexts.some((context) => context?.cache.servedFromL2 === true && context.cache.superseded())
    ) {
      const left = Math.max(1_000, EXECUTION_TIMEOUT_MS - (performance.now() - started));
      executed = await within(execute(), left);
    }
    const refuse = (message: string, code: ErrorCode) => {
      const refusal = graphqlErrorBody(message, code);
      return send(reply, 503, pieces === null ? refusal : pieces.map(() => refusal));
    };
    if (executed === TIMED_OUT) {
      return refuse(new DatabaseUnavailableError().message, ErrorCode.DatabaseUnavailable);
    }
    const response: HTTPGraphQLResponse = executed;

    if (deps.audit) {
      const left = Math.max(1_000, EXECUTION_TIMEOUT_MS - (performance.now() - started));
      const committed = await within(commitAudit(deps, contexts), left);
      if (committed !== true) {
        if (committed === TIMED_OUT) {
          deps.logger.error('audit events not committed in time; response withheld');
        }
        return refuse(new AuditUnavailableError().message, ErrorCode.AuditUnavailable);
      }
    }
    if (!(await servedCurrent(deps, contexts))) {
      void reply.header('retry-after', '1');
      return refuse(
        'Cached data could not be confirmed current; retry the request',
        ErrorCode.CacheUnverified,
      );
    }
    for (const [name, value] of response.headers) void reply.header(name, value);
    void reply.code(response.status ?? 200);
    // graphql-js 16 cannot defer or stream, so every Apollo response here is complete.
    return response.body.kind === 'complete' ? response.body.string : '';
  };
}

/**
 * Whether what the operations served from L2 may go out, after their audit commit. The process
 * must have heard every committed invalidation lately, waiting up to CONFIRM_WAIT_MS for it (as
 * after Postgres comes back). Once it had to wait, what it read may predate writes it could not
 * hear then: if any of them superseded a generation the operations read, the answer is refused
 * (a request that read L2 as its instance was cut from Postgres, and whose audit commit waited
 * for Postgres to come back). A supersession heard with no wait is a write concurrent with the
 * request, which may answer either value.
 */
async function servedCurrent(
  deps: GraphqlHandlerDeps,
  contexts: ReadonlyArray<RequestContext | undefined>,
): Promise<boolean> {
  const served = contexts.filter((context) => context?.cache.servedFromL2 === true);
  if (served.length === 0 || deps.fresh()) return true;
  const deadline = performance.now() + CONFIRM_WAIT_MS;
  while (!deps.fresh() && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  if (!deps.fresh()) return false;
  return !served.some((context) => context?.cache.superseded() === true);
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

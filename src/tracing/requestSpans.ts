import {
  context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Tracing } from './createTracing.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The trace id of the request's span, for its log line; undefined when not traced. */
    traceId: string | undefined;
  }
}

const propagator = new W3CTraceContextPropagator();

/**
 * One server span per request to `path`, from its first hook to its response, including
 * requests refused before GraphQL runs (401, 413). A W3C `traceparent` header makes it a child
 * of the caller's span. Its attributes are the method, the route and the status: never the URL
 * as sent, whose query string can hold a GET request's variables.
 *
 * The route's handler runs with the span active, so that what it does (operations, L2, SQL, the
 * audit commit) nests under it. `request.traceId` holds the trace id, for the request's log
 * line. Call it before the route and the server's own hooks are added: its onRequest hook
 * must run first.
 */
export function traceRequests(app: FastifyInstance, tracing: Tracing, path: string): void {
  app.decorateRequest('traceId', undefined);
  if (!tracing.enabled) return;
  const { tracer } = tracing;
  const spans = new WeakMap<FastifyRequest, Span>();
  const end = (request: FastifyRequest, status: number | undefined) => {
    const span = spans.get(request);
    if (span === undefined) return;
    spans.delete(request);
    if (status === undefined) {
      span.setAttribute(ATTR_ERROR_TYPE, 'aborted');
    } else {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      // A client's error (4xx) is not the server's; a 5xx is.
      if (status >= 500) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttribute(ATTR_ERROR_TYPE, String(status));
      }
    }
    span.end();
  };

  app.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.url === path) {
      const parent = propagator.extract(ROOT_CONTEXT, request.headers, defaultTextMapGetter);
      const span = tracer.startSpan(
        `${request.method} ${path}`,
        {
          kind: SpanKind.SERVER,
          attributes: {
            [ATTR_HTTP_REQUEST_METHOD]: request.method,
            [ATTR_HTTP_ROUTE]: path,
            [ATTR_URL_PATH]: path,
            [ATTR_URL_SCHEME]: request.protocol,
            'caregraph.request_id': request.id,
          },
        },
        parent,
      );
      spans.set(request, span);
      request.traceId = span.spanContext().traceId;
    }
    done();
  });
  app.addHook('onResponse', (request, reply, done) => {
    end(request, reply.statusCode);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    end(request, undefined);
    done();
  });

  app.addHook('onRoute', (route) => {
    if (route.url !== path) return;
    const handler = route.handler as (this: unknown, ...args: unknown[]) => unknown;
    route.handler = function (this: unknown, request, reply) {
      const span = spans.get(request);
      if (span === undefined) return handler.call(this, request, reply);
      return context.with(trace.setSpan(ROOT_CONTEXT, span), handler, this, request, reply);
    };
  });
}

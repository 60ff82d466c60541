import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

/** Request headers a portal may send cross-origin: its token, JSON, and Apollo's client headers. */
export const CORS_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'apollographql-client-name',
  'apollographql-client-version',
  'x-request-id',
  'x-break-glass',
  'apollo-require-preflight',
] as const;

/** How long a browser may reuse a preflight's answer, in seconds (Chromium caps it at 7200). */
export const CORS_MAX_AGE_SECONDS = 600;

/**
 * Lets the listed portal origins call the API from a browser. A preflight from one of them is
 * answered 204 with the CORS headers, and its requests get Access-Control-Allow-Origin naming it;
 * any other origin gets no CORS header at all, and its preflight falls through to 404. No
 * credentials: the API reads a bearer token, never a cookie, so it needs none. Register it after
 * the hooks that must see every request (request id, draining) and before authentication, so
 * that a preflight, which carries no token, is answered.
 */
export async function registerCors(
  app: FastifyInstance,
  origins: ReadonlyArray<string>,
): Promise<void> {
  if (origins.length === 0) return;
  const allowed = new Set(origins);
  await app.register(cors, {
    // A function rather than the list: with a list, @fastify/cors answers any origin's preflight
    // with the allowed methods and headers, only leaving out Allow-Origin.
    origin: (origin, callback) => {
      callback(null, origin !== undefined && allowed.has(origin) ? origin : false);
    },
    methods: ['GET', 'POST'],
    allowedHeaders: [...CORS_ALLOWED_HEADERS],
    // A portal quotes the request id when it reports a problem, and honours Retry-After.
    exposedHeaders: ['x-request-id', 'retry-after'],
    credentials: false,
    maxAge: CORS_MAX_AGE_SECONDS,
    strictPreflight: true,
  });
}

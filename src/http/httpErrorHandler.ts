import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode } from '../errors.js';
import { graphqlErrorBody } from './graphqlErrorBody.js';

/**
 * Errors Fastify raises before GraphQL runs (a malformed or oversized body, a wrong content
 * type) get a GraphQL-shaped body with a code, never Fastify's own format or a stack.
 */
export function handleHttpError(
  this: FastifyInstance,
  error: { statusCode?: number; code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
): FastifyReply {
  const status = error.statusCode ?? 500;
  reply.header('cache-control', 'no-store');
  if (status === 413) {
    return reply
      .code(413)
      .send(graphqlErrorBody('Request body too large', ErrorCode.PayloadTooLarge));
  }
  if (status === 415) {
    return reply
      .code(415)
      .send(graphqlErrorBody('Unsupported content type', ErrorCode.UnsupportedMediaType));
  }
  if (status >= 400 && status < 500) {
    return reply
      .code(status)
      .send(graphqlErrorBody('Malformed request body: expected valid JSON', ErrorCode.BadRequest));
  }
  request.log.error({ code: error.code }, 'unhandled HTTP error');
  return reply
    .code(500)
    .send(graphqlErrorBody('Internal server error', ErrorCode.InternalServerError));
}

import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { graphqlErrorBody } from './graphqlErrorBody.js';

/**
 * Answers a request that Node's HTTP parser refused before Fastify saw it (bytes a header
 * may not hold, headers over the size limit, a client too slow to send them) with a
 * GraphQL-shaped body and a code, as every other refusal gets, and logs its request line: the
 * status and code only, since the parser's error carries the raw bytes it choked on.
 */
export function createClientErrorHandler(
  logger: Logger,
): (error: Error & { code?: string }, socket: Socket) => void {
  return (error, socket) => {
    handleClientError(error, socket, logger);
  };
}

function handleClientError(error: Error & { code?: string }, socket: Socket, logger: Logger): void {
  // A reset connection has nobody left to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, ErrorCode.HeadersTooLarge, 'Request headers too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, ErrorCode.RequestTimeout, 'The request took too long to arrive']
        : [400, ErrorCode.BadRequest, 'Malformed HTTP request'];
  // Its line in the request log, as every request gets: no route, since none was parsed.
  logger.info({ route: 'unparsed', status, errors: [code] }, 'request completed');
  const body = JSON.stringify(graphqlErrorBody(message, code));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
        'Content-Type: application/json; charset=utf-8\r\n' +
        'Cache-Control: no-store\r\n' +
        'Connection: close\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

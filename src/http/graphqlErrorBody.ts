import type { ErrorCode } from '../errors.js';

/** A GraphQL-shaped error body, for errors raised before GraphQL execution starts. */
export function graphqlErrorBody(message: string, code: ErrorCode) {
  return { errors: [{ message, extensions: { code } }] };
}

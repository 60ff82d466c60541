import { SpanStatusCode, type Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { pgErrorCode } from '../db/pgErrorCode.js';

const CODE = /^[A-Z][A-Z0-9_]{1,39}$/;
const CLASS_NAME = /^[A-Za-z][A-Za-z0-9]{0,39}$/;

/**
 * What a span may say of an error: its SQLSTATE, its driver or socket code (ECONNREFUSED,
 * CONNECTION_CLOSED), or its class; never its message, which may quote a statement's
 * parameters. `span.recordException` would copy the message and stack, so it is never used.
 */
export function errorTypeOf(error: unknown): string {
  const sqlState = pgErrorCode(error);
  if (sqlState !== undefined) return sqlState;
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && CODE.test(code)) return code;
    if (CLASS_NAME.test(error.name)) return error.name;
  }
  return 'Error';
}

/** Marks a span failed, with `error.type` only. */
export function markFailed(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.setAttribute(ATTR_ERROR_TYPE, errorTypeOf(error));
}

import { SpanKind, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';
import { tableOfStatement } from '../db/tableOfStatement.js';
import { markFailed } from './spanErrors.js';

const OPERATIONS: ReadonlySet<string> = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'WITH',
  'BEGIN',
  'COMMIT',
  'ROLLBACK',
  'SAVEPOINT',
]);
const FIRST_WORD = /^\s*([A-Za-z]+)/;

/**
 * Starts the span of one SQL statement, under the active span; undefined outside a traced
 * request (start-up, migrations, the warmer), whose statements are not traced. The span holds
 * the operation and the table the statement names first (`tableOfStatement`, the same label
 * as `caregraph_db_queries_total`): never the statement's text, nor its parameters.
 */
export function startSqlSpan(tracer: Tracer, text: string): Span | undefined {
  const parent = trace.getActiveSpan();
  if (parent === undefined || !parent.isRecording()) return undefined;
  const word = FIRST_WORD.exec(text)?.[1]?.toUpperCase();
  const operation = word !== undefined && OPERATIONS.has(word) ? word : undefined;
  const table = tableOfStatement(text);
  const attributes: Attributes = { [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL };
  if (operation !== undefined) attributes[ATTR_DB_OPERATION_NAME] = operation;
  if (table !== 'other') attributes[ATTR_DB_COLLECTION_NAME] = table;
  const name =
    operation === undefined
      ? 'postgresql'
      : table === 'other'
        ? operation
        : `${operation} ${table}`;
  return tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes });
}

/** Ends a statement's span when `statement` settles, and returns the statement's own promise. */
export function endWith<T>(span: Span, statement: Promise<T>): Promise<T> {
  return statement.then(
    (value) => {
      span.end();
      return value;
    },
    (error: unknown) => {
      markFailed(span, error);
      span.end();
      throw error;
    },
  );
}

/**
 * A view of `target` whose methods in `overrides` are replaced; every other method is the
 * target's own, bound to it (PGlite's methods use private fields, which a proxy does not have).
 */
export function withMethods<T extends object>(target: T, overrides: Partial<T>): T {
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(object, property) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof T];
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      let method = bound.get(property);
      if (method === undefined) {
        method = (value as (...args: unknown[]) => unknown).bind(object);
        bound.set(property, method);
      }
      return method;
    },
  });
}

import type { Tracer } from '@opentelemetry/api';
import type postgres from 'postgres';
import { endWith, startSqlSpan, withMethods } from './sqlSpans.js';

type Sql = postgres.Sql;
type TransactionSql = postgres.TransactionSql;
type Pending = ReturnType<Sql['unsafe']>;

/**
 * A postgres.js client whose statements each get a span: every `unsafe` (drizzle sends every
 * statement through it), on the pool and inside `begin` and `savepoint` transactions.
 */
export function tracePostgres(sql: Sql, tracer: Tracer): Sql {
  return traceSql(sql, tracer);
}

function traceSql<S extends Sql | TransactionSql>(sql: S, tracer: Tracer): S {
  const unsafe = ((text: string, params?: never, options?: never) =>
    observe(sql.unsafe(text, params, options), text, tracer)) as S['unsafe'];
  const overrides: Partial<Sql & TransactionSql> = { unsafe };
  const wrapCallback =
    (args: unknown[]) =>
    (tx: TransactionSql): unknown =>
      (args[args.length - 1] as (tx: TransactionSql) => unknown)(traceSql(tx, tracer));
  overrides.begin = ((...args: unknown[]) =>
    (sql as Sql).begin(...(args.slice(0, -1) as []), wrapCallback(args) as never)) as Sql['begin'];
  if ('savepoint' in sql) {
    overrides.savepoint = ((...args: unknown[]) =>
      sql.savepoint(
        ...(args.slice(0, -1) as []),
        wrapCallback(args) as never,
      )) as TransactionSql['savepoint'];
  }
  return withMethods(sql, overrides as Partial<S>);
}

/**
 * postgres.js statements are lazy: a query runs when it is first awaited (`then`), after
 * `.values()` and the like have set how it answers. The span observes it on that first `then`,
 * so that the observer never runs a statement nobody awaited, nor runs it too early.
 */
function observe(query: Pending, text: string, tracer: Tracer): Pending {
  const span = startSqlSpan(tracer, text);
  if (span === undefined) return query;
  const then = query.then.bind(query);
  let observed = false;
  Reflect.defineProperty(query, 'then', {
    configurable: true,
    value: (onFulfilled?: never, onRejected?: never) => {
      if (!observed) {
        observed = true;
        endWith(span, then()).catch(() => undefined);
      }
      return then(onFulfilled, onRejected);
    },
  });
  return query;
}

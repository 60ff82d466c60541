import type { PGlite, Transaction } from '@electric-sql/pglite';
import type { Tracer } from '@opentelemetry/api';
import { endWith, startSqlSpan, withMethods } from './sqlSpans.js';

/** The embedded database with a span for every statement, inside transactions too. */
export function tracePglite(client: PGlite, tracer: Tracer): PGlite {
  return withMethods(client, {
    query: tracedQuery(client, tracer),
    transaction: ((work: (tx: Transaction) => Promise<unknown>) =>
      client.transaction((tx) =>
        work(withMethods(tx, { query: tracedQuery(tx, tracer) })),
      )) as PGlite['transaction'],
  });
}

function tracedQuery<Q extends Pick<PGlite, 'query'>>(target: Q, tracer: Tracer): Q['query'] {
  return ((text: string, params?: unknown[], options?: never) => {
    const span = startSqlSpan(tracer, text);
    const statement = target.query(text, params, options);
    return span === undefined ? statement : endWith(span, statement);
  }) as Q['query'];
}

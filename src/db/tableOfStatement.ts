import { getTableName, is } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import * as tables from './tables/index.js';

/** The label of a statement that reads or writes none of the service's tables (`select 1`, DDL). */
export const OTHER_TABLE = 'other';
/** The label of every statement `DatabaseHandle.migrate` runs, whatever it touches. */
export const MIGRATION_TABLE = 'migration';

/** The tables of `src/db/tables`, by their SQL names. */
const TABLE_NAMES: ReadonlySet<string> = new Set(
  Object.values(tables)
    .filter((value) => is(value, PgTable))
    .map((table) => getTableName(table)),
);

/**
 * Every value the `table` label of `caregraph_db_queries_total` can take: a label is never
 * read out of SQL text, which migrations and hand-written statements make unbounded.
 */
export const TABLE_LABELS: ReadonlySet<string> = new Set([
  ...TABLE_NAMES,
  OTHER_TABLE,
  MIGRATION_TABLE,
]);

const IDENTIFIER = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)`;
/*
 * One pass over the text: comments, string literals and dollar-quoted bodies match as a whole
 * and are skipped, so a table named inside them never counts; `from`, `into`, `update` and
 * `join` capture the (possibly schema-qualified) name that follows.
 */
const TOKENS = new RegExp(
  [
    String.raw`--[^\n]*`,
    String.raw`\/\*[\s\S]*?\*\/`,
    String.raw`'(?:[^']|'')*'`,
    String.raw`\$([A-Za-z_][A-Za-z0-9_]*)?\$[\s\S]*?\$\1\$`,
    String.raw`\b(?:from|into|update|join)\s+(${IDENTIFIER})(?:\s*\.\s*(${IDENTIFIER}))?`,
  ].join('|'),
  'gi',
);

/**
 * Names the first of the service's tables a SQL statement reads or writes, for the `table`
 * label of `caregraph_db_queries_total`. Names that are none of them (a CTE, a function, a
 * keyword after `ON UPDATE`, another schema's table) are passed over.
 *
 * @returns a member of TABLE_LABELS: the table's name, or "other" when it names none.
 */
export function tableOfStatement(statement: string): string {
  TOKENS.lastIndex = 0;
  for (let match = TOKENS.exec(statement); match !== null; match = TOKENS.exec(statement)) {
    const first = match[2];
    if (first === undefined) continue;
    const table = tableOf(first, match[3]);
    if (table !== undefined) return table;
  }
  return OTHER_TABLE;
}

/** The service's table that `first` (or `first.second`, in schema `public`) denotes, if any. */
function tableOf(first: string, second: string | undefined): string | undefined {
  const schema = second === undefined ? 'public' : unquote(first);
  const name = unquote(second ?? first);
  return schema === 'public' && TABLE_NAMES.has(name) ? name : undefined;
}

/** A quoted identifier as written; an unquoted one folded to lower case, as Postgres does. */
function unquote(identifier: string): string {
  return identifier.startsWith('"')
    ? identifier.slice(1, -1).replaceAll('""', '"')
    : identifier.toLowerCase();
}

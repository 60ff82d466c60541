const TABLE_PATTERN = /\b(?:from|into|update)\s+"?([a-z_][a-z0-9_]*)"?/i;

/**
 * Names the first table a SQL statement reads or writes, for the `table` label of
 * `caregraph_db_queries_total`. Statements without one (`select 1`, DDL) count as "other".
 */
export function tableOfStatement(statement: string): string {
  return TABLE_PATTERN.exec(statement)?.[1] ?? 'other';
}

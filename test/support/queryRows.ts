import type { SQL } from 'drizzle-orm';
import type { Database } from '../../src/db/client.js';

/**
 * Runs raw SQL and returns its rows. postgres.js answers `execute` with an array, PGlite with
 * `{ rows }`; tests should not care which.
 */
export async function queryRows<T>(db: Database, query: SQL): Promise<T[]> {
  const result: unknown = await db.execute(query);
  return (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as T[];
}

import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { seedDatabase } from '../../src/db/seed.js';
import type { Tracing } from '../../src/tracing/createTracing.js';

/** Patients in every test database, across both tenants. */
export const TEST_PATIENTS = 40;
export const TEST_SEED = 7;

export interface PostgresTestRun {
  readonly baseUrl: string;
  readonly runId: string;
  readonly template: string;
}

/** The URL of another database on the same server. */
export function databaseUrl(baseUrl: string, database: string): string {
  const url = new URL(baseUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** A fresh database with the schema migrated and no rows, on the same backend as the run. */
export async function createEmptyDatabase(): Promise<DatabaseHandle> {
  const run = inject('postgresRun');
  if (run === null) {
    const handle = await createDatabase({ url: undefined });
    await handle.migrate();
    return handle;
  }
  const name = `${run.runId}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(run.baseUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const handle = await createDatabase({ url: databaseUrl(run.baseUrl, name), poolMax: 2 });
  await handle.migrate();
  return handle;
}

/**
 * A fresh, migrated and seeded database for one test file: a clone of the run's template on
 * real Postgres when DATABASE_URL is set, an in-memory PGlite otherwise.
 */
export async function createTestDatabase(
  onStatement?: (table: string) => void,
  tracing?: Tracing,
): Promise<DatabaseHandle & { readonly url: string | undefined }> {
  const run = inject('postgresRun');
  if (run === null) {
    const handle = await createDatabase({ url: undefined, onStatement, tracing });
    await handle.migrate();
    await seedDatabase(handle.db, { patients: TEST_PATIENTS, seed: TEST_SEED });
    return { ...handle, url: undefined };
  }
  const name = `${run.runId}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(run.baseUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`create database "${name}" template "${run.template}"`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(run.baseUrl, name);
  const handle = await createDatabase({ url, poolMax: 5, onStatement, tracing });
  return { ...handle, url };
}

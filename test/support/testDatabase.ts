import { randomBytes } from 'node:crypto';
import { basename, dirname } from 'node:path';
import postgres from 'postgres';
import { inject } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { readSnapshot } from '../../src/startup/seedSnapshot.js';
import type { Tracing } from '../../src/tracing/createTracing.js';

/** Patients in every test database, across both tenants. */
export const TEST_PATIENTS = 40;
export const TEST_SEED = 7;

export interface PostgresTestRun {
  readonly baseUrl: string;
  readonly runId: string;
  readonly template: string;
}

/** Tarballs of PGlite data directories (`dumpDataDir`), built once per run by globalSetup. */
export interface PgliteSnapshots {
  /** Migrated, no rows. */
  readonly empty: string;
  /** Migrated and seeded with TEST_PATIENTS from TEST_SEED. */
  readonly seeded: string;
}

// Read once per test file (process), however many databases it opens.
const tarballs = new Map<string, Blob>();

/** A new in-memory PGlite holding a copy of one of the run's snapshots. */
async function pgliteCopy(
  which: keyof PgliteSnapshots,
  onStatement?: (table: string) => void,
  tracing?: Tracing,
): Promise<DatabaseHandle> {
  const snapshots = inject('pgliteSnapshots');
  if (snapshots === null) throw new Error('the run built no PGlite snapshots');
  let tarball = tarballs.get(which);
  if (tarball === undefined) {
    const path = snapshots[which];
    tarball = await readSnapshot(dirname(path), basename(path));
    if (tarball === undefined)
      throw new Error(`the run's ${which} PGlite snapshot did not read back`);
    tarballs.set(which, tarball);
  }
  return createDatabase({ url: undefined, onStatement, tracing, pgliteDataDir: tarball });
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
  if (run === null) return pgliteCopy('empty');
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
 * real Postgres when DATABASE_URL is set, an in-memory PGlite copy of the run's seeded one
 * otherwise.
 */
export async function createTestDatabase(
  onStatement?: (table: string) => void,
  tracing?: Tracing,
): Promise<DatabaseHandle & { readonly url: string | undefined }> {
  const run = inject('postgresRun');
  if (run === null)
    return { ...(await pgliteCopy('seeded', onStatement, tracing)), url: undefined };
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

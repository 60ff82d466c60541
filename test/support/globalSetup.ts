import type { TestProject } from 'vitest/node';
import postgres from 'postgres';
import { createDatabase } from '../../src/db/client.js';
import { seedDatabase } from '../../src/db/seed.js';
import { TEST_PATIENTS, TEST_SEED, databaseUrl, type PostgresTestRun } from './testDatabase.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresRun: PostgresTestRun | null;
  }
}

/**
 * With DATABASE_URL set (CI), creates this run's own template database on that server,
 * migrated and seeded once; every test file then clones it. Without it, files use PGlite.
 * Teardown drops every database of the run.
 */
export default async function setup(
  project: TestProject,
): Promise<(() => Promise<void>) | undefined> {
  const baseUrl = process.env.DATABASE_URL;
  if (baseUrl === undefined || baseUrl === '') {
    project.provide('postgresRun', null);
    return undefined;
  }
  const runId = `caregraph_test_${Date.now().toString(36)}_${process.pid}`;
  const admin = postgres(baseUrl, { max: 1, onnotice: () => undefined });
  const template = `${runId}_template`;
  await admin.unsafe(`create database "${template}"`);
  const handle = await createDatabase({ url: databaseUrl(baseUrl, template), poolMax: 2 });
  try {
    await handle.migrate();
    await seedDatabase(handle.db, { patients: TEST_PATIENTS, seed: TEST_SEED });
  } finally {
    await handle.close();
  }
  project.provide('postgresRun', { baseUrl, runId, template });

  return async () => {
    const rows = await admin<{ datname: string }[]>`
      select datname from pg_database where datname like ${`${runId}%`}`;
    for (const { datname } of rows)
      await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    await admin.end();
  };
}

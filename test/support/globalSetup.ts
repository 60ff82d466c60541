import type { TestProject } from 'vitest/node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { createDatabase } from '../../src/db/client.js';
import { seedDatabase } from '../../src/db/seed.js';
import { chaosTable } from './chaosReport.js';
import { pgliteSnapshots } from './pgliteSnapshots.js';
import {
  TEST_PATIENTS,
  TEST_SEED,
  databaseUrl,
  type PgliteSnapshots,
  type PostgresTestRun,
} from './testDatabase.js';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresRun: PostgresTestRun | null;
    /** Without DATABASE_URL: the embedded databases every file starts from, built once. */
    pgliteSnapshots: PgliteSnapshots | null;
    /** Where chaos scenarios leave their figures, printed as one table when the run ends. */
    chaosReportDir: string;
  }
}

/**
 * With DATABASE_URL set (CI), creates this run's own template database on that server,
 * migrated and seeded once; every test file then clones it. Without it, files use PGlite,
 * each loading a copy of a data directory migrated (and seeded) once (pgliteSnapshots.ts):
 * building a database costs seconds of WASM CPU, a copy about one. Teardown drops every
 * database of the run.
 */
export default async function setup(
  project: TestProject,
): Promise<(() => Promise<void>) | undefined> {
  const chaosDir = mkdtempSync(join(tmpdir(), 'caregraph-chaos-'));
  project.provide('chaosReportDir', chaosDir);
  const printChaos = () => {
    const table = chaosTable(chaosDir);
    if (table !== undefined) process.stdout.write(`\nChaos suite (test/chaos/):\n${table}\n\n`);
    rmSync(chaosDir, { recursive: true, force: true });
  };
  const baseUrl = process.env.DATABASE_URL;
  if (baseUrl === undefined || baseUrl === '') {
    project.provide('postgresRun', null);
    project.provide('pgliteSnapshots', await pgliteSnapshots());
    return () => {
      printChaos();
      return Promise.resolve();
    };
  }
  project.provide('pgliteSnapshots', null);
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
    printChaos();
    const rows = await admin<{ datname: string }[]>`
      select datname from pg_database where datname like ${`${runId}%`}`;
    for (const { datname } of rows)
      await admin.unsafe(`drop database if exists "${datname}" with (force)`);
    await admin.end();
  };
}

import { createHash, randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { createDatabase, type DatabaseHandle, type MigrateOptions } from '../../src/db/client.js';
import { seedDatabase } from '../../src/db/seed.js';
import { databaseUrl, type PostgresTestRun } from './testDatabase.js';

/** The role `npm run db:migrate` creates for the API. Roles are cluster-wide. */
export const APP_ROLE_NAME = 'caregraph_app';

function postgresRun(): PostgresTestRun {
  const run = inject('postgresRun');
  if (run === null) throw new Error('this test support needs DATABASE_URL');
  return run;
}

/**
 * The app-role password of this test run. One per run, not per file: the role is shared by
 * every file of the run, and the last migrate to set a password wins for all of them.
 */
export function appRolePassword(): string {
  return createHash('sha256').update(postgresRun().runId).digest('hex').slice(0, 40);
}

/**
 * A new, empty database of the run (the run's teardown drops it), migrated by its owner.
 *
 * @returns the owner's URL of it.
 */
export async function createMigratedDatabase(options: MigrateOptions = {}): Promise<string> {
  const run = postgresRun();
  const name = `${run.runId}_${randomBytes(4).toString('hex')}`;
  const admin = postgres(run.baseUrl, { max: 1, onnotice: () => undefined });
  try {
    await admin.unsafe(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(run.baseUrl, name);
  const handle = await createDatabase({ url, poolMax: 1 });
  try {
    await handle.migrate(options);
  } finally {
    await handle.close();
  }
  return url;
}

export interface AppRoleDatabase {
  /** The migrating owner's handle (the run's superuser): sets up fixtures, checks the trail. */
  readonly owner: DatabaseHandle;
  readonly ownerUrl: string;
  /** The same database, connecting as the app role with the password migrate was given. */
  readonly appUrl: string;
  readonly password: string;
  close(): Promise<void>;
}

/**
 * A fresh Postgres database, migrated with an app-role password as `npm run db:migrate` with
 * DATABASE_APP_PASSWORD would, then seeded with a few patients by the owner.
 *
 * @throws when the run has no Postgres (DATABASE_URL unset): callers skip first.
 */
export async function createAppRoleDatabase(patients = 6): Promise<AppRoleDatabase> {
  const password = appRolePassword();
  const ownerUrl = await createMigratedDatabase({ appRolePassword: password });
  const owner = await createDatabase({ url: ownerUrl, poolMax: 2 });
  await seedDatabase(owner.db, { patients });
  const app = new URL(ownerUrl);
  app.username = APP_ROLE_NAME;
  app.password = password;
  return { owner, ownerUrl, appUrl: app.toString(), password, close: () => owner.close() };
}

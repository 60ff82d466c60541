import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { describe, expect, inject, it } from 'vitest';
import { appRolePassword } from './support/appRoleDatabase.js';
import { compose, environmentOf, interpolate, SAMPLES } from './support/composeFile.js';
import { databaseUrl } from './support/testDatabase.js';

const run = promisify(execFile);
const postgresRun = inject('postgresRun');

/**
 * Runs a CLI as the stack's one-shot jobs run it (`node dist/cli/<script>.js`), from source,
 * with the service's environment and nothing of this process's own but PATH and HOME.
 */
function job(script: string, args: ReadonlyArray<string>, env: Record<string, string>) {
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
  return run(process.execPath, ['--import', 'tsx', `src/cli/${script}.ts`, ...args], {
    env: base,
  });
}

/** The service's environment, its database URL pointed at `database` on the test cluster. */
function pointedAt(service: string, database: string, password: string) {
  const environment = environmentOf(compose.services[service], {
    ...SAMPLES,
    DATABASE_APP_PASSWORD: password,
  });
  const url = new URL(environment.DATABASE_URL ?? '');
  const local = new URL(database);
  // The compose's user, with the test cluster's superuser as the owner.
  if (url.username !== 'caregraph_app') {
    url.username = local.username;
    url.password = local.password;
  }
  url.host = local.host;
  url.pathname = local.pathname;
  return { ...environment, DATABASE_URL: url.toString() };
}

describe.skipIf(postgresRun === null)('the compose stack jobs, on Postgres', () => {
  it('migrate lets caregraph_app log in, seed fills the tables, and the api role cannot rewrite the trail', async () => {
    if (postgresRun === null) return;
    const name = `${postgresRun.runId}_${randomBytes(4).toString('hex')}`;
    const admin = postgres(postgresRun.baseUrl, { max: 1, onnotice: () => undefined });
    try {
      await admin.unsafe(`create database "${name}"`);
    } finally {
      await admin.end();
    }
    const owner = databaseUrl(postgresRun.baseUrl, name);
    // The role is the cluster's: it keeps the password every test of this run uses.
    const password = appRolePassword();

    const migrate = compose.services.migrate?.command ?? [];
    expect(migrate.slice(0, 2)).toEqual(['node', 'dist/cli/migrate.js']);
    const migrated = await job('migrate', migrate.slice(2), pointedAt('migrate', owner, password));
    expect(migrated.stdout).toContain('it logs in with DATABASE_APP_PASSWORD');

    const seedCommand = (compose.services.seed?.command ?? []).map((arg) => interpolate(arg));
    expect(seedCommand).toEqual(['--patients', '1000']);
    await job('seed', ['--patients', '6'], pointedAt('seed', owner, password));

    const api = postgres(pointedAt('api', owner, password).DATABASE_URL, {
      max: 1,
      onnotice: () => undefined,
    });
    try {
      const [who] = await api<Array<{ user: string; superuser: boolean }>>`
        select current_user as user, r.rolsuper as superuser
        from pg_roles r where r.rolname = current_user`;
      expect(who).toEqual({ user: 'caregraph_app', superuser: false });
      const [patients] = await api<Array<{ count: string }>>`select count(*) from patients`;
      expect(patients?.count).toBe('6');
      await expect(api`update audit_events set action = 'read'`).rejects.toMatchObject({
        code: '42501',
      });
      await expect(api`delete from audit_events`).rejects.toMatchObject({ code: '42501' });
      await expect(api`truncate audit_events`).rejects.toMatchObject({ code: '42501' });
    } finally {
      await api.end();
    }
  }, 120_000);
});

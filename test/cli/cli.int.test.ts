import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { describe, expect, inject, it } from 'vitest';
import { authenticate } from '../../src/auth/authenticate.js';
import { loadConfig } from '../../src/config.js';
import { databaseUrl } from '../support/testDatabase.js';

const run = promisify(execFile);

function cli(script: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const base: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (env.DATABASE_URL === undefined) delete base.DATABASE_URL;
  return run(process.execPath, ['--import', 'tsx', `src/cli/${script}.ts`, ...args], { env: base });
}

describe('npm run token', () => {
  it('prints a token the server accepts, with the given claims', async () => {
    const doctorId = '11111111-2222-4333-8444-555555555555';
    const { stdout } = await cli('token', [
      '--role',
      'clinician',
      '--tenant',
      't2',
      '--doctor',
      doctorId,
    ]);
    const principal = await authenticate(`Bearer ${stdout.trim()}`, loadConfig({}).jwt);
    expect(principal).toMatchObject({ tenantId: 't2', role: 'clinician', doctorId });
  });

  it('refuses an unknown role or a clinician without a doctor id', async () => {
    await expect(cli('token', ['--role', 'root', '--tenant', 't1'])).rejects.toMatchObject({
      code: 2,
    });
    await expect(cli('token', ['--role', 'clinician', '--tenant', 't1'])).rejects.toMatchObject({
      code: 2,
    });
  });
});

describe('npm run db:migrate', () => {
  const postgresRun = inject('postgresRun');

  it('needs DATABASE_URL', async () => {
    await expect(cli('migrate', [])).rejects.toMatchObject({ code: 2 });
  });

  // Migrating a real server needs one; the embedded database migrates itself in every other test.
  it.runIf(postgresRun !== null)(
    'creates every table on an empty Postgres database, idempotently',
    async () => {
      if (postgresRun === null) return;
      const name = `${postgresRun.runId}_${randomBytes(4).toString('hex')}`;
      const admin = postgres(postgresRun.baseUrl, { max: 1, onnotice: () => undefined });
      try {
        await admin.unsafe(`create database "${name}"`);
        const url = databaseUrl(postgresRun.baseUrl, name);
        await cli('migrate', [], { DATABASE_URL: url });
        const { stdout } = await cli('migrate', [], { DATABASE_URL: url });
        expect(stdout).toContain('migrations applied');
        const target = postgres(url, { max: 1 });
        const tables = await target<{ tablename: string }[]>`
        select tablename from pg_tables where schemaname = 'public' order by tablename`;
        await target.end();
        expect(tables.map((t) => t.tablename)).toEqual([
          'audit_events',
          'cache_invalidations',
          'cache_scope_floors',
          'care_team',
          'departments',
          'doctors',
          'medical_records',
          'patients',
          'studies',
          'tenants',
        ]);
      } finally {
        await admin.end();
      }
    },
  );
});

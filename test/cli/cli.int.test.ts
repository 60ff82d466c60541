import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { describe, expect, inject, it } from 'vitest';
import { decodeJwt } from 'jose';
import { authenticate } from '../../src/auth/authenticate.js';
import { loadConfig } from '../../src/config.js';
import { hasStackTrace, runCli } from '../support/runCli.js';
import { databaseUrl } from '../support/testDatabase.js';

const run = promisify(execFile);

function cli(script: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const base: NodeJS.ProcessEnv = { ...process.env, ...env };
  if (env.DATABASE_URL === undefined) delete base.DATABASE_URL;
  return run(process.execPath, ['--import', 'tsx', `src/cli/${script}.ts`, ...args], { env: base });
}

describe('npm run token', () => {
  const doctorId = '11111111-2222-4333-8444-555555555555';
  const jwt = loadConfig({}).jwt;

  it('prints a token the server accepts, with the given claims', async () => {
    const { stdout } = await cli('token', [
      '--role',
      'clinician',
      '--tenant',
      't2',
      '--doctor',
      doctorId,
    ]);
    const principal = await authenticate(`Bearer ${stdout.trim()}`, jwt);
    expect(principal).toMatchObject({ tenantId: 't2', role: 'clinician', doctorId });
  });

  it('signs for the lifetime --expires gives', async () => {
    const { code, stdout } = await runCli('token', [
      '--role=patient',
      '--tenant=t1',
      `--patient=${doctorId.toUpperCase()}`,
      '--expires=30m',
    ]);
    expect(code).toBe(0);
    const claims = decodeJwt(stdout.trim());
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(1800);
    await expect(authenticate(`Bearer ${stdout.trim()}`, jwt)).resolves.toMatchObject({
      role: 'patient',
      patientId: doctorId,
    });
  });

  it('prints its usage on --help and exits 0', async () => {
    const { code, stdout, stderr } = await runCli('token', ['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('usage: npm run token -- --role ROLE --tenant TENANT');
    expect(stdout).toContain('--expires');
    expect(stderr).toBe('');
  });

  // The command lines the issue names, each run as `npm run token` runs it; every other refusal
  // is the same code path, checked in tokenArgs.test.ts without a process each.
  const refusals: ReadonlyArray<readonly [string, ReadonlyArray<string>, string]> = [
    [
      'an unknown flag',
      ['--role', 'admin', '--tenant', 't1', '--rol', 'x'],
      'unknown option --rol',
    ],
    ['a flag without its value', ['--tenant', 't1', '--role'], '--role needs a value'],
    [
      'a bad duration',
      ['--role', 'admin', '--tenant', 't1', '--expires', 'soon'],
      '--expires "soon" is not a duration',
    ],
    [
      'a tenant the server refuses',
      ['--role', 'admin', '--tenant', 'T1'],
      'the server refuses tenant "T1"',
    ],
    [
      'a clinician without --doctor',
      ['--role', 'clinician', '--tenant', 't1'],
      'a clinician token needs --doctor',
    ],
  ];

  for (const [what, args, message] of refusals) {
    it(`refuses ${what} in one line with a pointer to --help, exit code 2`, async () => {
      const { code, stdout, stderr } = await runCli('token', args);
      expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
      expect(stderr.split('\n')).toEqual([
        expect.stringContaining(message) as string,
        'Run `npm run token -- --help` for usage.',
        '',
      ]);
      expect(hasStackTrace(stderr)).toBe(false);
    });
  }
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

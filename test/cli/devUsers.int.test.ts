import { and, asc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.js';
import { seedDatabase } from '../../src/db/seed.js';
import { careTeam, doctors, patients } from '../../src/db/tables/index.js';
import { hasStackTrace, runCli } from '../support/runCli.js';
import { createTestDatabase } from '../support/testDatabase.js';

/** The first patient of t1 by MRN and the ids of their care team, read straight from SQL. */
async function firstPatient(handle: DatabaseHandle) {
  const [patient] = await handle.db
    .select({ id: patients.id, mrn: patients.mrn })
    .from(patients)
    .where(eq(patients.tenantId, 't1'))
    .orderBy(asc(patients.mrn))
    .limit(1);
  const team = await handle.db
    .select({ id: careTeam.doctorId })
    .from(careTeam)
    .where(and(eq(careTeam.tenantId, 't1'), eq(careTeam.patientId, patient?.id ?? '')));
  return { id: patient?.id ?? 'none', mrn: patient?.mrn ?? 'none', team: team.map((t) => t.id) };
}

/** The lines of one patient's block: their row, then a `care team:` line per doctor. */
function blockOf(stdout: string, patientId: string): string[] {
  const lines = stdout.split('\n');
  const start = lines.findIndex((line) => line.trim().startsWith(patientId));
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => !line.trim().startsWith('care team:'));
  return start < 0 ? [] : [lines[start] ?? '', ...rest.slice(0, end)];
}

describe('npm run dev:users', () => {
  it('prints its usage on --help and exits 0', async () => {
    const { code, stdout } = await runCli('devUsers', ['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('usage: npm run dev:users -- --tenant TENANT [--limit N]');
  });

  it('refuses to run when NODE_ENV=production, before it opens any database', async () => {
    const { code, stdout, stderr } = await runCli('devUsers', ['--tenant', 't1'], {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    });
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toContain('refused when NODE_ENV=production');
    expect(hasStackTrace(stderr)).toBe(false);
  });

  it('refuses a tenant id the server would refuse, and a bad limit, with exit code 2', async () => {
    for (const args of [['--tenant', 'T1'], ['--tenant', 't1', '--limit', 'all'], []]) {
      const { code, stderr } = await runCli('devUsers', args);
      expect(code).toBe(2);
      expect(stderr).toContain('Run `npm run dev:users -- --help` for usage.');
      expect(hasStackTrace(stderr)).toBe(false);
    }
  }, 90_000);

  describe.runIf(inject('postgresRun') !== null)('with DATABASE_URL', () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;

    beforeAll(async () => {
      database = await createTestDatabase();
    });
    afterAll(async () => {
      await database.close();
    });

    it("lists that database's doctors and patients, each patient with their care team", async () => {
      const { code, stdout } = await runCli('devUsers', ['--tenant', 't1', '--limit', '5'], {
        DATABASE_URL: database.url,
      });
      expect(code).toBe(0);
      const first = await firstPatient(database);
      const block = blockOf(stdout, first.id);
      expect(block[0]).toContain(first.mrn);
      expect(
        block
          .slice(1)
          .map((line) => line.trim().split(/\s+/)[2])
          .sort(),
      ).toEqual([...first.team].sort());
      const [doctor] = await database.db
        .select({ id: doctors.id })
        .from(doctors)
        .where(eq(doctors.tenantId, 't1'))
        .orderBy(asc(doctors.name), asc(doctors.id))
        .limit(1);
      expect(stdout).toContain(doctor?.id ?? 'none');
      const unknown = await runCli('devUsers', ['--tenant', 't9'], {
        DATABASE_URL: database.url,
      });
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('no tenant "t9" in this database (tenants: t1, t2)');
    });
  });

  describe('without DATABASE_URL', () => {
    let seeded: DatabaseHandle;

    // What `npm start` does with EMBEDDED_SEED_PATIENTS=6: the ids dev:users prints must be its.
    beforeAll(async () => {
      seeded = await createDatabase({ url: undefined });
      await seeded.migrate();
      await seedDatabase(seeded.db, { patients: 6 });
    });
    afterAll(async () => {
      await seeded.close();
    });

    it('seeds an embedded database as the server does, so the ids are the embedded server ids', async () => {
      const { code, stdout, stderr } = await runCli('devUsers', ['--tenant', 't1'], {
        EMBEDDED_SEED_PATIENTS: '6',
      });
      expect(code).toBe(0);
      expect(stderr).toContain('DATABASE_URL is unset: opening an embedded database seeded as');
      const first = await firstPatient(seeded);
      const block = blockOf(stdout, first.id);
      expect(
        block
          .slice(1)
          .map((line) => line.trim().split(/\s+/)[2])
          .sort(),
      ).toEqual([...first.team].sort());
      expect(stdout).toContain(`--role patient --tenant t1 --patient ${first.id}`);
      expect(stdout).toMatch(
        new RegExp(`--role clinician --tenant t1 --doctor (${first.team.join('|')})`),
      );
      // It migrates and seeds a database of its own: slow on a busy machine.
    }, 120_000);
  });
});

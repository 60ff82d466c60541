import { and, eq } from 'drizzle-orm';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../../src/auth/authenticate.js';
import { parseTokenArgs } from '../../src/cli/tokenArgs.js';
import { loadConfig } from '../../src/config.js';
import { careTeam } from '../../src/db/tables/index.js';
import { writeDevBanner } from '../../src/http/devBanner.js';
import { createTestDatabase } from '../support/testDatabase.js';

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

describe('writeDevBanner', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let banner: string;
  const jwt = loadConfig({}).jwt;

  beforeAll(async () => {
    database = await createTestDatabase();
    const out = new PassThrough();
    let text = '';
    out.on('data', (chunk: Buffer) => (text += chunk.toString()));
    await writeDevBanner(out, { db: database.db, jwt, address: 'http://127.0.0.1:4000' });
    banner = text;
  });
  afterAll(async () => {
    await database.close();
  });

  const labelled = (label: string) =>
    new RegExp(`^  ${label}:\\s+(${UUID})`, 'm').exec(banner)?.[1];

  it('prints a labelled patient id and a doctor on that patient care team', async () => {
    const patientId = labelled('patient id');
    const doctorId = labelled('doctor id');
    expect(patientId).toBeDefined();
    expect(doctorId).toBeDefined();
    const member = await database.db
      .select()
      .from(careTeam)
      .where(
        and(
          eq(careTeam.tenantId, 't1'),
          eq(careTeam.patientId, patientId ?? ''),
          eq(careTeam.doctorId, doctorId ?? ''),
        ),
      );
    expect(member).toHaveLength(1);
    expect(banner).toContain(`export PATIENT_ID=${patientId ?? ''} DOCTOR_ID=${doctorId ?? ''}`);
  });

  it('prints tokens the server accepts: the clinician is the doctor shown, the patient the patient shown', async () => {
    const token = (role: string) =>
      new RegExp(`export ${role}_TOKEN=(\\S+)`).exec(banner)?.[1] ?? 'missing';
    const clinician = await authenticate(`Bearer ${token('CLINICIAN')}`, jwt);
    const patient = await authenticate(`Bearer ${token('PATIENT')}`, jwt);
    expect(clinician).toMatchObject({ tenantId: 't1', doctorId: labelled('doctor id') });
    expect(patient).toMatchObject({ tenantId: 't1', patientId: labelled('patient id') });
    for (const role of ['FRONTDESK', 'AUDITOR', 'ADMIN']) {
      await expect(authenticate(`Bearer ${token(role)}`, jwt)).resolves.toMatchObject({
        tenantId: 't1',
      });
    }
  });

  it('prints a ready-to-run token command for that doctor, and where to find other ids', () => {
    const command = /^ {2}npm run token -- (.+)$/m.exec(banner)?.[1] ?? '';
    expect(parseTokenArgs(command.split(' '))).toMatchObject({
      kind: 'sign',
      claims: { role: 'clinician', tenant: 't1', doctorId: labelled('doctor id') },
    });
    expect(banner).toContain('npm run dev:users -- --tenant t1');
    expect(banner).toContain(`patient(id: \\"${labelled('patient id') ?? ''}\\")`);
  });

  it('names no patient: ids only', async () => {
    const names = await database.db.query.patients.findMany({ columns: { name: true, mrn: true } });
    const leaked = names.filter((p) => banner.includes(p.name) || banner.includes(p.mrn));
    expect(leaked).toEqual([]);
  });
});

import { randomUUID } from 'node:crypto';
import { and, asc, eq, notInArray } from 'drizzle-orm';
import type { Database } from '../../src/db/client.js';
import { careTeam, doctors, medicalRecords, patients, studies } from '../../src/db/tables/index.js';

export interface SeededPatient {
  readonly tenantId: string;
  readonly patientId: string;
  /** A doctor on the patient's care team. */
  readonly careTeamDoctorId: string;
  /** A doctor of the same tenant who is not on the care team. */
  readonly otherDoctorId: string;
}

/** The seeded patient of a tenant with the lowest MRN, with one doctor on and one off their team. */
export async function seededPatient(
  db: Database,
  tenantId = 't1',
  offset = 0,
): Promise<SeededPatient> {
  const [patient] = await db
    .select({ id: patients.id })
    .from(patients)
    .where(eq(patients.tenantId, tenantId))
    .orderBy(asc(patients.mrn))
    .offset(offset)
    .limit(1);
  if (patient === undefined) throw new Error(`no seeded patient in ${tenantId}`);
  const team = await db
    .select({ doctorId: careTeam.doctorId })
    .from(careTeam)
    .where(and(eq(careTeam.tenantId, tenantId), eq(careTeam.patientId, patient.id)));
  const teamIds = team.map((t) => t.doctorId);
  const [other] = await db
    .select({ id: doctors.id })
    .from(doctors)
    .where(and(eq(doctors.tenantId, tenantId), notInArray(doctors.id, teamIds)))
    .limit(1);
  if (teamIds[0] === undefined || other === undefined) throw new Error('seed has no care team');
  return { tenantId, patientId: patient.id, careTeamDoctorId: teamIds[0], otherDoctorId: other.id };
}

/**
 * Creates a patient with exactly `recordCount` records and `studyCount` studies. Records and
 * studies are authored by doctors who are not on the care team, so that every doctor and
 * department the chart shows must be fetched.
 */
export async function createChartPatient(
  db: Database,
  options: { tenantId?: string; recordCount: number; studyCount: number; mrn: string },
): Promise<{ patientId: string; careTeamDoctorId: string }> {
  const tenantId = options.tenantId ?? 't1';
  const docs = await db
    .select({ id: doctors.id, departmentId: doctors.departmentId })
    .from(doctors)
    .where(eq(doctors.tenantId, tenantId))
    .orderBy(asc(doctors.id));
  const [clinician, ...others] = docs;
  if (clinician === undefined) throw new Error('seed has no doctors');
  const authors = others.filter((d) => d.departmentId !== clinician.departmentId);
  const patientId = randomUUID();
  await db.insert(patients).values({
    tenantId,
    id: patientId,
    mrn: options.mrn,
    name: 'Chart Fixture',
    birthDate: '1980-01-01',
    sex: 'UNKNOWN',
    primaryDoctorId: clinician.id,
  });
  await db.insert(careTeam).values({ tenantId, patientId, doctorId: clinician.id });
  const at = (i: number) => new Date(Date.UTC(2025, 0, 1) - i * 86_400_000).toISOString();
  if (options.recordCount > 0) {
    await db.insert(medicalRecords).values(
      Array.from({ length: options.recordCount }, (_, i) => ({
        tenantId,
        id: randomUUID(),
        patientId,
        authorId: authors[i % authors.length]?.id ?? null,
        recordedAt: at(i),
        diagnosisCode: 'I10',
        diagnosis: 'Essential (primary) hypertension',
        notes: `fixture note ${i}`,
      })),
    );
  }
  if (options.studyCount > 0) {
    await db.insert(studies).values(
      Array.from({ length: options.studyCount }, (_, i) => ({
        tenantId,
        id: randomUUID(),
        patientId,
        modality: 'CT',
        description: 'CT chest',
        startedAt: at(i),
        imageCount: 100,
        orderingDoctorId: authors[(i + 7) % authors.length]?.id ?? null,
        reportStatus: 'PENDING' as const,
        report: null,
      })),
    );
  }
  return { patientId, careTeamDoctorId: clinician.id };
}

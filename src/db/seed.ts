import { Faker, en } from '@faker-js/faker';
import { sql } from 'drizzle-orm';
import type { Database } from './client.js';
import {
  careTeam,
  departments,
  doctors,
  medicalRecords,
  patients,
  studies,
  tenants,
  type CareTeamRow,
  type DepartmentRow,
  type DoctorRow,
  type MedicalRecordRow,
  type PatientRow,
  type StudyRow,
} from './tables/index.js';

export const SEED_TENANTS = ['t1', 't2'] as const;
export const DEPARTMENTS_PER_TENANT = 10;
export const DOCTORS_PER_TENANT = 60;

export interface SeedOptions {
  /** Patients in all, split evenly between the tenants. */
  readonly patients: number;
  /** Doctors per tenant (60 unless given); the benchmark seeds more, to have more clinicians. */
  readonly doctorsPerTenant?: number;
  /** The faker seed; the same seed always yields the same rows. */
  readonly seed?: number;
  /** Called after each batch with the number of patients written so far. */
  readonly onProgress?: (patientsWritten: number) => void;
}

export interface SeedSummary {
  readonly tenants: number;
  readonly departments: number;
  readonly doctors: number;
  readonly patients: number;
  readonly records: number;
  readonly studies: number;
}

// Dates are drawn relative to a fixed instant, not to "now", so that a seed is reproducible.
const REFERENCE_DATE = new Date('2026-01-01T00:00:00.000Z');
const PATIENTS_PER_BATCH = 250;

const DEPARTMENT_NAMES = [
  'Cardiology',
  'Radiology',
  'Oncology',
  'Neurology',
  'Pediatrics',
  'Emergency Medicine',
  'Internal Medicine',
  'Orthopedics',
  'Endocrinology',
  'Pulmonology',
  'Nephrology',
  'Dermatology',
];
const TITLES = ['MD', 'DO', 'MD, PhD', 'NP', 'PA'];
const MODALITIES = ['CT', 'MR', 'US', 'CR', 'DX', 'MG', 'NM', 'PT'];
const REPORT_STATUSES = ['PENDING', 'PRELIMINARY', 'FINAL', 'AMENDED'] as const;
const SEXES = ['FEMALE', 'MALE', 'OTHER', 'UNKNOWN'] as const;
const DIAGNOSES: ReadonlyArray<readonly [string, string]> = [
  ['E11.9', 'Type 2 diabetes mellitus without complications'],
  ['I10', 'Essential (primary) hypertension'],
  ['J45.909', 'Unspecified asthma, uncomplicated'],
  ['E78.5', 'Hyperlipidemia, unspecified'],
  ['M54.5', 'Low back pain'],
  ['F32.9', 'Major depressive disorder, single episode, unspecified'],
  ['J06.9', 'Acute upper respiratory infection, unspecified'],
  ['K21.9', 'Gastro-esophageal reflux disease without esophagitis'],
  ['N39.0', 'Urinary tract infection, site not specified'],
  ['I48.91', 'Unspecified atrial fibrillation'],
  ['E03.9', 'Hypothyroidism, unspecified'],
  ['G43.909', 'Migraine, unspecified, not intractable'],
  ['R51.9', 'Headache, unspecified'],
  ['S93.401A', 'Sprain of unspecified ligament of ankle, initial encounter'],
  ['Z00.00', 'Encounter for general adult medical examination'],
];

/**
 * Writes deterministic synthetic data for tenants t1 and t2: 10 departments and 60 doctors
 * (or `doctorsPerTenant`) each, then patients with 10–30 records (20 on average), 1–5 studies and a care team of 2–4
 * doctors. Rows go in with multi-row INSERTs, one batch of patients at a time. Ids are drawn from
 * the seed, so running it again over the same data inserts nothing new.
 *
 * @returns how many rows of each kind were written.
 */
export async function seedDatabase(db: Database, options: SeedOptions): Promise<SeedSummary> {
  const faker = new Faker({ locale: [en] });
  faker.seed(options.seed ?? 42);
  faker.setDefaultRefDate(REFERENCE_DATE);

  const counts = { records: 0, studies: 0 };
  const doctorsPerTenant = options.doctorsPerTenant ?? DOCTORS_PER_TENANT;
  await db
    .insert(tenants)
    .values(SEED_TENANTS.map((id) => ({ id, name: `Tenant ${id.toUpperCase()}` })))
    .onConflictDoNothing();

  const doctorsByTenant = new Map<string, DoctorRow[]>();
  for (const tenantId of SEED_TENANTS) {
    const depts: DepartmentRow[] = DEPARTMENT_NAMES.slice(0, DEPARTMENTS_PER_TENANT).map(
      (name) => ({
        tenantId,
        id: faker.string.uuid(),
        name,
        location: `Building ${faker.string.alpha({ length: 1, casing: 'upper' })}, floor ${faker.number.int({ min: 1, max: 9 })}`,
      }),
    );
    const docs: DoctorRow[] = Array.from({ length: doctorsPerTenant }, () => ({
      tenantId,
      id: faker.string.uuid(),
      name: `Dr. ${faker.person.firstName()} ${faker.person.lastName()}`,
      title: faker.helpers.arrayElement(TITLES),
      specialty: faker.helpers.arrayElement(DEPARTMENT_NAMES),
      departmentId: faker.helpers.arrayElement(depts).id,
    }));
    await db.insert(departments).values(depts).onConflictDoNothing();
    await db.insert(doctors).values(docs).onConflictDoNothing();
    doctorsByTenant.set(tenantId, docs);
  }

  let written = 0;
  const perTenant = SEED_TENANTS.map(
    (_, i) =>
      Math.floor(options.patients / SEED_TENANTS.length) +
      (i < options.patients % SEED_TENANTS.length ? 1 : 0),
  );
  for (const [tenantIndex, tenantId] of SEED_TENANTS.entries()) {
    const docs = doctorsByTenant.get(tenantId) ?? [];
    const total = perTenant[tenantIndex] ?? 0;
    for (let start = 0; start < total; start += PATIENTS_PER_BATCH) {
      const size = Math.min(PATIENTS_PER_BATCH, total - start);
      const batch = buildPatientBatch(faker, tenantId, docs, start, size);
      await insertPatientBatch(db, batch);
      counts.records += batch.records.length;
      counts.studies += batch.studies.length;
      written += size;
      options.onProgress?.(written);
    }
  }
  await db.execute(sql`analyze`);
  return {
    tenants: SEED_TENANTS.length,
    departments: SEED_TENANTS.length * DEPARTMENTS_PER_TENANT,
    doctors: SEED_TENANTS.length * doctorsPerTenant,
    patients: written,
    ...counts,
  };
}

interface PatientBatch {
  patients: PatientRow[];
  careTeam: CareTeamRow[];
  records: MedicalRecordRow[];
  studies: StudyRow[];
}

function buildPatientBatch(
  faker: Faker,
  tenantId: string,
  docs: ReadonlyArray<DoctorRow>,
  offset: number,
  size: number,
): PatientBatch {
  const batch: PatientBatch = { patients: [], careTeam: [], records: [], studies: [] };
  for (let i = 0; i < size; i++) {
    const id = faker.string.uuid();
    const team = faker.helpers.arrayElements(docs, { min: 2, max: 4 });
    const sex = faker.helpers.arrayElement(SEXES);
    const firstName = faker.person.firstName(
      sex === 'FEMALE' ? 'female' : sex === 'MALE' ? 'male' : undefined,
    );
    batch.patients.push({
      tenantId,
      id,
      mrn: `M${String(offset + i + 1).padStart(7, '0')}`,
      name: `${firstName} ${faker.person.lastName()}`,
      birthDate: faker.date.birthdate({ mode: 'age', min: 0, max: 95 }).toISOString().slice(0, 10),
      sex,
      phone: faker.helpers.replaceSymbols('+1 ###-###-####'),
      consentGranted: true,
      primaryDoctorId: team[0]?.id ?? null,
      updatedAt: REFERENCE_DATE.toISOString(),
    });
    for (const doctor of team)
      batch.careTeam.push({ tenantId, patientId: id, doctorId: doctor.id });
    const recordCount = faker.number.int({ min: 10, max: 30 });
    for (let r = 0; r < recordCount; r++) {
      const [code, diagnosis] = faker.helpers.arrayElement(DIAGNOSES);
      batch.records.push({
        tenantId,
        id: faker.string.uuid(),
        patientId: id,
        authorId: faker.helpers.arrayElement(team).id,
        recordedAt: faker.date.past({ years: 10 }).toISOString(),
        diagnosisCode: code,
        diagnosis,
        notes: faker.lorem.sentence({ min: 6, max: 18 }),
      });
    }
    const studyCount = faker.number.int({ min: 1, max: 5 });
    for (let s = 0; s < studyCount; s++) {
      const modality = faker.helpers.arrayElement(MODALITIES);
      const reportStatus = faker.helpers.arrayElement(REPORT_STATUSES);
      batch.studies.push({
        tenantId,
        id: faker.string.uuid(),
        patientId: id,
        modality,
        description: `${modality} ${faker.helpers.arrayElement(['head', 'chest', 'abdomen', 'pelvis', 'spine', 'knee', 'shoulder'])}`,
        startedAt: faker.date.past({ years: 5 }).toISOString(),
        imageCount: faker.number.int({ min: 1, max: 2000 }),
        orderingDoctorId: faker.helpers.arrayElement(team).id,
        reportStatus,
        report: reportStatus === 'PENDING' ? null : faker.lorem.sentences({ min: 2, max: 4 }),
      });
    }
  }
  return batch;
}

// Postgres takes at most 65,535 parameters per statement; 500 rows of up to 10 columns stay
// well below it while keeping the number of round trips small.
const ROWS_PER_INSERT = 500;

async function insertPatientBatch(db: Database, batch: PatientBatch): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.insert(patients).values(batch.patients).onConflictDoNothing();
    await tx.insert(careTeam).values(batch.careTeam).onConflictDoNothing();
    for (let i = 0; i < batch.records.length; i += ROWS_PER_INSERT) {
      await tx
        .insert(medicalRecords)
        .values(batch.records.slice(i, i + ROWS_PER_INSERT))
        .onConflictDoNothing();
    }
    for (let i = 0; i < batch.studies.length; i += ROWS_PER_INSERT) {
      await tx
        .insert(studies)
        .values(batch.studies.slice(i, i + ROWS_PER_INSERT))
        .onConflictDoNothing();
    }
  });
}

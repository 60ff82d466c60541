import { Faker, en } from '@faker-js/faker';
import { asc } from 'drizzle-orm';
import type { JwtSettings } from '../src/auth/authenticate.js';
import { signToken, type TokenClaims } from '../src/auth/tokens.js';
import type { Database } from '../src/db/client.js';
import { careTeam, doctors, patients, studies } from '../src/db/tables/index.js';
import type { OperationName } from './operations.js';
import { createZipf, type Zipf } from './zipf.js';

/** One request of the stream: who sends it, which operation, with what variables. */
export interface WorkloadRequest {
  readonly kind: RequestKind;
  /** Index into `Workload.tokens`. */
  readonly user: number;
  readonly operation: OperationName;
  readonly variables: Readonly<Record<string, string>>;
}

export type RequestKind = 'chart' | 'ownChart' | 'search' | 'reference' | 'mobile' | 'write';

/** Shares of the portal mix, in percent. Writes are about 2%, as the issue asks. */
export const MIX: Readonly<Record<RequestKind, number>> = {
  chart: 50,
  ownChart: 12,
  search: 10,
  reference: 12,
  mobile: 14,
  write: 2,
};

// How sharply popularity falls off: with 1.0, the top 1% of 10,000 patients draws about half
// of the chart opens, as a ward's inpatients do next to the practice's other patients.
const ZIPF_EXPONENT = 1.0;
const FRONT_DESK_USERS_PER_TENANT = 10;

export interface Workload {
  readonly seed: number;
  /** Bearer tokens of every distinct user, minted once. */
  readonly tokens: string[];
  readonly requests: WorkloadRequest[];
  readonly users: { clinicians: number; patients: number; frontdesk: number };
}

interface TenantData {
  readonly tenantId: string;
  /** Patients in popularity order (a seeded shuffle), each with their care team and a study. */
  readonly patients: Array<{
    id: string;
    mrn: string;
    lastName: string;
    team: string[];
    study?: string;
  }>;
  readonly doctors: Array<{ id: string; departmentId: string }>;
  readonly chartZipf: Zipf;
  readonly ownChartZipf: Zipf;
  /** Patients reading their own chart follow a popularity of their own: rank → patient index. */
  readonly ownChartOrder: number[];
}

/**
 * Builds the benchmark's request stream from the seeded database. The same seed and data give
 * the same stream, request for request; tokens differ only in their signatures' timestamps.
 */
export async function buildWorkload(
  db: Database,
  options: { seed: number; length: number; jwt: JwtSettings },
): Promise<Workload> {
  const faker = new Faker({ locale: [en] });
  faker.seed(options.seed);
  const tenants = await loadTenants(db, faker);

  const users = new Map<string, TokenClaims>();
  const userIndex = new Map<string, number>();
  const user = (claims: TokenClaims): number => {
    const key = `${claims.role}:${claims.sub}`;
    let index = userIndex.get(key);
    if (index === undefined) {
      index = userIndex.size;
      userIndex.set(key, index);
      users.set(key, claims);
    }
    return index;
  };
  const clinician = (tenantId: string, doctorId: string) =>
    user({ sub: `clinician-${doctorId}`, tenant: tenantId, role: 'clinician', doctorId });
  const frontDesk = (tenantId: string) =>
    user({
      sub: `frontdesk-${tenantId}-${faker.number.int({ min: 1, max: FRONT_DESK_USERS_PER_TENANT })}`,
      tenant: tenantId,
      role: 'frontdesk',
    });

  const kinds = Object.entries(MIX) as Array<[RequestKind, number]>;
  const requests: WorkloadRequest[] = [];
  let writes = 0;
  for (let i = 0; i < options.length; i++) {
    const tenant = faker.helpers.arrayElement(tenants);
    const kind = faker.helpers.weightedArrayElement(
      kinds.map(([value, weight]) => ({ value, weight })),
    );
    const popular = tenant.patients[tenant.chartZipf.next()];
    if (popular === undefined) throw new Error('no patients seeded');
    const teamMember = faker.helpers.arrayElement(popular.team);
    switch (kind) {
      case 'chart':
        requests.push({
          kind,
          user: clinician(tenant.tenantId, teamMember),
          operation: 'Chart',
          variables: { id: popular.id },
        });
        break;
      case 'ownChart': {
        const own =
          tenant.patients[tenant.ownChartOrder[tenant.ownChartZipf.next()] ?? 0] ?? popular;
        requests.push({
          kind,
          user: user({
            sub: `patient-${own.id}`,
            tenant: tenant.tenantId,
            role: 'patient',
            patientId: own.id,
          }),
          operation: 'Chart',
          variables: { id: own.id },
        });
        break;
      }
      case 'search':
        requests.push({
          kind,
          user: frontDesk(tenant.tenantId),
          operation: 'SearchPatients',
          variables: { search: faker.datatype.boolean() ? popular.mrn : popular.lastName },
        });
        break;
      case 'reference': {
        const doctor = faker.helpers.arrayElement(tenant.doctors);
        const reader = clinician(tenant.tenantId, faker.helpers.arrayElement(tenant.doctors).id);
        requests.push(
          faker.datatype.boolean()
            ? { kind, user: reader, operation: 'Departments', variables: {} }
            : { kind, user: reader, operation: 'Doctor', variables: { id: doctor.id } },
        );
        break;
      }
      case 'mobile':
        requests.push(
          faker.number.int({ min: 1, max: 4 }) <= 3
            ? {
                kind,
                user: clinician(tenant.tenantId, teamMember),
                operation: 'MobileChart',
                variables: { id: popular.id },
              }
            : {
                kind,
                user: clinician(tenant.tenantId, teamMember),
                operation: 'MobileDoctors',
                variables: {
                  departmentId: faker.helpers.arrayElement(tenant.doctors).departmentId,
                },
              },
        );
        break;
      case 'write':
        writes++;
        requests.push(
          popular.study !== undefined && faker.datatype.boolean()
            ? {
                kind,
                user: clinician(tenant.tenantId, teamMember),
                operation: 'UpdateStudyReport',
                variables: { id: popular.study, report: `Benchmark report revision ${writes}.` },
              }
            : {
                kind,
                user: frontDesk(tenant.tenantId),
                operation: 'UpdatePatient',
                variables: {
                  id: popular.id,
                  phone: `+1 555-${String(writes % 10_000).padStart(4, '0')}`,
                },
              },
        );
        break;
    }
  }

  const claims = [...users.values()];
  const tokens = await Promise.all(claims.map((c) => signToken(c, options.jwt, '2h')));
  return {
    seed: options.seed,
    tokens,
    requests,
    users: {
      clinicians: claims.filter((c) => c.role === 'clinician').length,
      patients: claims.filter((c) => c.role === 'patient').length,
      frontdesk: claims.filter((c) => c.role === 'frontdesk').length,
    },
  };
}

async function loadTenants(db: Database, faker: Faker): Promise<TenantData[]> {
  const [patientRows, teamRows, doctorRows, studyRows] = await Promise.all([
    db
      .select({
        id: patients.id,
        tenantId: patients.tenantId,
        mrn: patients.mrn,
        name: patients.name,
      })
      .from(patients)
      .orderBy(asc(patients.id)),
    db.select().from(careTeam).orderBy(asc(careTeam.patientId), asc(careTeam.doctorId)),
    db
      .select({ id: doctors.id, tenantId: doctors.tenantId, departmentId: doctors.departmentId })
      .from(doctors)
      .orderBy(asc(doctors.id)),
    db
      .select({ id: studies.id, patientId: studies.patientId })
      .from(studies)
      .orderBy(asc(studies.patientId), asc(studies.id)),
  ]);
  const teams = new Map<string, string[]>();
  for (const row of teamRows)
    teams.set(row.patientId, [...(teams.get(row.patientId) ?? []), row.doctorId]);
  const firstStudy = new Map<string, string>();
  for (const row of studyRows)
    if (!firstStudy.has(row.patientId)) firstStudy.set(row.patientId, row.id);

  const tenantIds = [...new Set(patientRows.map((p) => p.tenantId))].sort();
  return tenantIds.map((tenantId) => {
    const own = patientRows
      .filter((p) => p.tenantId === tenantId && (teams.get(p.id)?.length ?? 0) > 0)
      .map((p) => ({
        id: p.id,
        mrn: p.mrn,
        lastName: p.name.split(' ').at(-1) ?? p.name,
        team: teams.get(p.id) ?? [],
        study: firstStudy.get(p.id),
      }));
    return {
      tenantId,
      // Popularity is a seeded shuffle, not the id order, so that rank says nothing of the data.
      patients: faker.helpers.shuffle(own),
      doctors: doctorRows.filter((d) => d.tenantId === tenantId),
      chartZipf: createZipf(faker, own.length, ZIPF_EXPONENT),
      ownChartZipf: createZipf(faker, own.length, ZIPF_EXPONENT),
      ownChartOrder: faker.helpers.shuffle(own.map((_, i) => i)),
    };
  });
}

import type { JwtSettings } from '../auth/authenticate.js';
import { ROLES, type Role } from '../auth/principal.js';
import { signToken } from '../auth/tokens.js';
import type { Database } from '../db/client.js';
import { listTenantUsers } from '../db/queries/listTenantUsers.js';

const TENANT = 't1';
const NEEDS_SAMPLE: ReadonlySet<Role> = new Set(['clinician', 'patient']);

interface SampleUser {
  readonly patientId: string;
  readonly doctorId: string;
  readonly doctorName: string;
}

/**
 * Prints, for the embedded development database: a sample patient of tenant t1 (its id, by
 * label) and a doctor on its care team, one ready-to-use token per role (the clinician is that
 * doctor, the patient that patient), the command that signs others, and an example curl.
 * Ids only for the patient: the banner is output a terminal or a log may keep.
 */
export async function writeDevBanner(
  out: NodeJS.WritableStream,
  deps: { db: Database; jwt: JwtSettings; address: string },
): Promise<void> {
  const { patients } = await listTenantUsers(deps.db, TENANT, 1);
  const [patient] = patients;
  const [doctor] = patient?.careTeam ?? [];
  const sample: SampleUser | undefined =
    patient === undefined || doctor === undefined
      ? undefined
      : { patientId: patient.id, doctorId: doctor.id, doctorName: doctor.name };
  const lines = [
    '',
    `caregraph is serving ${deps.address}/graphql on the embedded database (tenant ${TENANT}).`,
    '',
  ];
  if (sample !== undefined) {
    lines.push(
      'Sample users (synthetic seed data):',
      `  patient id: ${sample.patientId}`,
      `  doctor id:  ${sample.doctorId} (${sample.doctorName}, on that patient's care team)`,
      '',
    );
  }
  lines.push('Development tokens, valid for 8 hours (paste into a shell):');
  // Without a sample (nothing seeded), a clinician or patient token would name no one.
  for (const role of ROLES.filter((r) => sample !== undefined || !NEEDS_SAMPLE.has(r))) {
    const token = await signToken(claimsFor(role, sample), deps.jwt);
    lines.push(`  export ${role.toUpperCase()}_TOKEN=${token}`);
  }
  if (sample !== undefined) {
    lines.push(
      `  export PATIENT_ID=${sample.patientId} DOCTOR_ID=${sample.doctorId}`,
      '',
      'The clinician token is that doctor; the patient token is that patient. Another token:',
      `  npm run token -- --role clinician --tenant ${TENANT} --doctor ${sample.doctorId}`,
      `Other ids: npm run dev:users -- --tenant ${TENANT}`,
      '',
      'Try (as the clinician):',
      `  curl -s ${deps.address}/graphql -H "Authorization: Bearer $CLINICIAN_TOKEN" -H 'content-type: application/json' \\`,
      `    -d '{"query":"{ patient(id: \\"${sample.patientId}\\") { name careTeam { name } records(first: 3) { diagnosis author { name } } } }"}'`,
    );
  }
  out.write(`${lines.join('\n')}\n\n`);
}

function claimsFor(role: Role, sample: SampleUser | undefined) {
  return {
    sub: `dev-${role}`,
    tenant: TENANT,
    role,
    doctorId: role === 'clinician' ? sample?.doctorId : undefined,
    patientId: role === 'patient' ? sample?.patientId : undefined,
  };
}

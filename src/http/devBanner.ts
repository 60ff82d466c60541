import { and, asc, eq } from 'drizzle-orm';
import type { JwtSettings } from '../auth/authenticate.js';
import { ROLES, type Role } from '../auth/principal.js';
import { signToken } from '../auth/tokens.js';
import type { Database } from '../db/client.js';
import { careTeam, patients } from '../db/tables/index.js';

const TENANT = 't1';

/**
 * Prints one ready-to-use token per role of tenant t1, and an example curl, for the embedded
 * development database. The clinician is on the care team of the patient shown.
 */
export async function writeDevBanner(
  out: NodeJS.WritableStream,
  deps: { db: Database; jwt: JwtSettings; address: string },
): Promise<void> {
  const [link] = await deps.db
    .select({ patientId: careTeam.patientId, doctorId: careTeam.doctorId })
    .from(careTeam)
    .innerJoin(
      patients,
      and(eq(patients.tenantId, careTeam.tenantId), eq(patients.id, careTeam.patientId)),
    )
    .where(eq(careTeam.tenantId, TENANT))
    .orderBy(asc(patients.mrn))
    .limit(1);
  const lines = [
    '',
    `caregraph is serving ${deps.address}/graphql on the embedded database (tenant ${TENANT}).`,
    'Development tokens, valid for 8 hours (paste into a shell):',
  ];
  for (const role of ROLES) {
    const token = await signToken(claimsFor(role, link), deps.jwt);
    lines.push(`  export ${role.toUpperCase()}_TOKEN=${token}`);
  }
  if (link !== undefined) {
    lines.push(
      '',
      'Try (as the clinician):',
      `  curl -s ${deps.address}/graphql -H "Authorization: Bearer $CLINICIAN_TOKEN" -H 'content-type: application/json' \\`,
      `    -d '{"query":"{ patient(id: \\"${link.patientId}\\") { name careTeam { name } records(first: 3) { diagnosis author { name } } } }"}'`,
    );
  }
  out.write(`${lines.join('\n')}\n\n`);
}

function claimsFor(role: Role, link: { patientId: string; doctorId: string } | undefined) {
  return {
    sub: `dev-${role}`,
    tenant: TENANT,
    role,
    doctorId: role === 'clinician' ? link?.doctorId : undefined,
    patientId: role === 'patient' ? link?.patientId : undefined,
  };
}

import type { TenantUsers } from '../db/queries/listTenantUsers.js';

/**
 * The text `npm run dev:users` prints: doctors (id, name, department); patients (id, MRN,
 * name), each followed by its care team (doctor id and name); then the commands that sign a
 * token for the first patient and a doctor on its care team.
 */
export function formatTenantUsers(tenant: string, users: TenantUsers): string {
  const lines = [`Doctors of tenant ${tenant} (${String(users.doctors.length)} shown):`];
  lines.push(
    ...table(
      ['doctor id', 'name', 'department'],
      users.doctors.map((d) => [d.id, d.name, d.department]),
    ),
  );
  lines.push('', `Patients of tenant ${tenant} (${String(users.patients.length)} shown):`);
  const rows = table(
    ['patient id', 'mrn', 'name'],
    users.patients.map((p) => [p.id, p.mrn, p.name]),
  );
  lines.push(rows[0] ?? '');
  users.patients.forEach((patient, i) => {
    lines.push(rows[i + 1] ?? '');
    for (const doctor of patient.careTeam)
      lines.push(`      care team: ${doctor.id}  ${doctor.name}`);
  });
  const [patient] = users.patients;
  const doctor = patient?.careTeam[0];
  lines.push('', 'Tokens (`npm run token -- --help` for more):');
  if (patient !== undefined && doctor !== undefined) {
    lines.push(
      `  npm run token -- --role clinician --tenant ${tenant} --doctor ${doctor.id}   # ${doctor.name}, on ${patient.mrn}'s care team`,
    );
  }
  if (patient !== undefined) {
    lines.push(
      `  npm run token -- --role patient --tenant ${tenant} --patient ${patient.id}   # ${patient.mrn}`,
    );
  }
  lines.push(`  npm run token -- --role frontdesk --tenant ${tenant}`);
  return `${lines.join('\n')}\n`;
}

function table(
  header: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
): string[] {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => row[i]?.length ?? 0)),
  );
  const line = (cells: ReadonlyArray<string>) =>
    `  ${cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}`;
  return [line(header), ...rows.map(line)];
}

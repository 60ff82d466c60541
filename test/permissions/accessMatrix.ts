/**
 * Who may read what (SPEC §1 "Access rules"), as the matrix test checks it cold and with the
 * data hot in L2. README.md shows this table as rendered here; a test keeps the two equal.
 */
export const ROLES_UNDER_TEST = [
  'clinician on the care team',
  'clinician off the care team',
  'clinician with break-glass',
  'the patient',
  'another patient',
  'front desk',
  'auditor',
  'admin',
  "another tenant's clinician",
] as const;

export const RESOURCES = [
  'demographics',
  'records',
  'record notes',
  'studies',
  'reference data',
  'audit trail',
] as const;

export type RoleUnderTest = (typeof ROLES_UNDER_TEST)[number];
export type Resource = (typeof RESOURCES)[number];
/** allow: served; deny: FORBIDDEN on the field; null: reads as absent (another tenant's id). */
export type Outcome = 'allow' | 'deny' | 'null';

const row = (...outcomes: Outcome[]): Record<Resource, Outcome> =>
  Object.fromEntries(RESOURCES.map((resource, i) => [resource, outcomes[i] ?? 'deny'])) as Record<
    Resource,
    Outcome
  >;

export const ACCESS_MATRIX: Record<RoleUnderTest, Record<Resource, Outcome>> = {
  'clinician on the care team': row('allow', 'allow', 'allow', 'allow', 'allow', 'deny'),
  'clinician off the care team': row('deny', 'deny', 'deny', 'deny', 'allow', 'deny'),
  'clinician with break-glass': row('allow', 'allow', 'allow', 'allow', 'allow', 'deny'),
  'the patient': row('allow', 'allow', 'allow', 'allow', 'allow', 'deny'),
  'another patient': row('deny', 'deny', 'deny', 'deny', 'allow', 'deny'),
  'front desk': row('allow', 'deny', 'deny', 'deny', 'allow', 'deny'),
  auditor: row('deny', 'deny', 'deny', 'deny', 'allow', 'allow'),
  admin: row('deny', 'deny', 'deny', 'deny', 'allow', 'deny'),
  "another tenant's clinician": row('null', 'null', 'null', 'null', 'allow', 'deny'),
};

/** The matrix as a Markdown table. */
export function renderAccessMatrix(): string {
  const mark: Record<Outcome, string> = { allow: 'allowed', deny: 'FORBIDDEN', null: '`null`' };
  const header = `| who | ${RESOURCES.join(' | ')} |`;
  const rule = `| --- | ${RESOURCES.map(() => '---').join(' | ')} |`;
  const rows = ROLES_UNDER_TEST.map(
    (role) => `| ${role} | ${RESOURCES.map((r) => mark[ACCESS_MATRIX[role][r]]).join(' | ')} |`,
  );
  return [header, rule, ...rows].join('\n');
}

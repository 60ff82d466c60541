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
  'care team',
  'record notes',
  'studies',
  'reference data',
  'audit trail',
] as const;

export type RoleUnderTest = (typeof ROLES_UNDER_TEST)[number];
export type Resource = (typeof RESOURCES)[number];
/**
 * allow: served; deny: FORBIDDEN on the field, which alone reads null (its parent and
 * siblings are served); null: reads as absent (another tenant's id).
 */
export type Outcome = 'allow' | 'deny' | 'null';

const row = (...outcomes: Outcome[]): Record<Resource, Outcome> =>
  Object.fromEntries(RESOURCES.map((resource, i) => [resource, outcomes[i] ?? 'deny'])) as Record<
    Resource,
    Outcome
  >;

export const ACCESS_MATRIX: Record<RoleUnderTest, Record<Resource, Outcome>> = {
  'clinician on the care team': row('allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'deny'),
  'clinician off the care team': row('deny', 'deny', 'deny', 'deny', 'deny', 'allow', 'deny'),
  'clinician with break-glass': row('allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'deny'),
  'the patient': row('allow', 'allow', 'allow', 'allow', 'allow', 'allow', 'deny'),
  'another patient': row('deny', 'deny', 'deny', 'deny', 'deny', 'allow', 'deny'),
  'front desk': row('allow', 'deny', 'deny', 'deny', 'deny', 'allow', 'deny'),
  auditor: row('deny', 'deny', 'deny', 'deny', 'deny', 'allow', 'allow'),
  admin: row('deny', 'deny', 'deny', 'deny', 'deny', 'allow', 'deny'),
  "another tenant's clinician": row('null', 'null', 'null', 'null', 'null', 'allow', 'deny'),
};

/**
 * The resource whose entity a resource is read through (a patient's records and care team
 * are fields of the patient), when there is one. A refusal lands on the resource's own field
 * when the role may read that entity, and on the entity's query field otherwise.
 */
export const READ_THROUGH: Partial<Record<Resource, Resource>> = {
  records: 'demographics',
  'care team': 'demographics',
};

/** The field that reads each resource: on its entity, or at the root of the query. */
const FIELDS: Record<Resource, string> = {
  demographics: 'patient',
  records: 'records',
  'care team': 'careTeam',
  'record notes': 'medicalRecord',
  studies: 'study',
  'reference data': 'departments',
  'audit trail': 'auditEvents',
};

/** The path of the field that reads the resource, from the root of the query. */
function pathOf(resource: Resource): string {
  const parent = READ_THROUGH[resource];
  return parent === undefined ? FIELDS[resource] : `${pathOf(parent)}.${FIELDS[resource]}`;
}

/**
 * Where a refusal of the resource lands for the role: the one path that reads null, with
 * FORBIDDEN on it. It is the resource's own field when the role may read the entity it is
 * read through, else wherever that entity's refusal lands.
 */
export function refusedPath(role: RoleUnderTest, resource: Resource): string {
  const parent = READ_THROUGH[resource];
  if (parent === undefined || ACCESS_MATRIX[role][parent] === 'allow') return pathOf(resource);
  return refusedPath(role, parent);
}

/** The matrix as a Markdown table. */
export function renderAccessMatrix(): string {
  const mark = (role: RoleUnderTest, resource: Resource): string => {
    const outcome = ACCESS_MATRIX[role][resource];
    if (outcome === 'allow') return 'allowed';
    if (outcome === 'null') return '`null`';
    const path = refusedPath(role, resource);
    // Say where a refusal lands only when its parent entity is served.
    return path.includes('.') ? `FORBIDDEN on \`${path}\`` : 'FORBIDDEN';
  };
  const header = `| who | ${RESOURCES.join(' | ')} |`;
  const rule = `| --- | ${RESOURCES.map(() => '---').join(' | ')} |`;
  const rows = ROLES_UNDER_TEST.map(
    (role) => `| ${role} | ${RESOURCES.map((r) => mark(role, r)).join(' | ')} |`,
  );
  return [header, rule, ...rows].join('\n');
}

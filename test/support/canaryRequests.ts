import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { Role } from '../../src/auth/principal.js';

/** Ids of one seeded chart, and the doctors and department around it. */
export interface CanaryFixture {
  readonly patientId: string;
  readonly studyId: string;
  /** A doctor on the patient's care team. */
  readonly careTeamDoctorId: string;
  /** A doctor who is not. */
  readonly otherDoctorId: string;
}

export interface CanaryRequest {
  /** The argument the canary travels in, for failure messages. */
  readonly label: string;
  readonly role: Role;
  /** The doctor a clinician's token names; the care-team doctor when omitted. */
  readonly doctorId?: string;
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
  readonly method?: 'GET' | 'POST';
}

type Kind = 'text' | 'uuid' | 'phone' | 'icd';

/**
 * Mints unique values that must never reach the log, and remembers them. `spoil` appends a
 * NUL byte, or a lone surrogate, which the server must refuse before any SQL.
 */
export class Canaries {
  readonly minted: string[] = [];

  mint(kind: Kind): string {
    const hex = randomBytes(6).toString('hex');
    const value =
      kind === 'text'
        ? `CANARY${hex}`
        : kind === 'uuid'
          ? randomUUID()
          : kind === 'phone'
            ? `+1 (555) ${String(randomInt(1000, 9999))}-${String(randomInt(1000, 9999))}-${String(randomInt(10, 99))}`
            : `Q${String(randomInt(0, 9))}K.${hex.slice(0, 4).toUpperCase()}`;
    this.minted.push(value);
    return value;
  }

  spoil(kind: Kind, how: 'nul' | 'surrogate' = 'nul'): string {
    return `${this.mint(kind)}${how === 'nul' ? '\u0000x' : '\uD800x'}`;
  }
}

interface Slot {
  readonly label: string;
  readonly role: Role;
  readonly kind: Kind;
  readonly query: string;
  readonly variables: (value: string) => Record<string, unknown>;
}

const slot = (
  label: string,
  role: Role,
  kind: Kind,
  query: string,
  variables: (value: string) => Record<string, unknown>,
): Slot => ({ label, role, kind, query, variables });

// Root fields that take one string argument: [field, argument, its type, role, kind].
const READS: ReadonlyArray<readonly [string, string, string, Role, Kind]> = [
  ['patients', 'search', 'String!', 'frontdesk', 'text'],
  ['patient', 'id', 'ID!', 'frontdesk', 'uuid'],
  ['medicalRecord', 'id', 'ID!', 'clinician', 'uuid'],
  ['study', 'id', 'ID!', 'clinician', 'uuid'],
  ['doctor', 'id', 'ID!', 'frontdesk', 'uuid'],
  ['department', 'id', 'ID!', 'frontdesk', 'uuid'],
  ['doctors', 'departmentId', 'ID', 'frontdesk', 'uuid'],
  ['auditEvents', 'patientId', 'ID', 'auditor', 'uuid'],
];

/** Every string argument of the schema, each carried alone, by a role that reaches its resolver. */
function slots(f: CanaryFixture): Slot[] {
  const m = (field: string, types: string, selection = '{ id }') =>
    `mutation (${types}) { ${field} ${selection} }`;
  const patient = m(
    'updatePatient(id: $id, input: $input)',
    '$id: ID!, $input: UpdatePatientInput!',
  );
  const record = m('addMedicalRecord(input: $input)', '$input: AddMedicalRecordInput!');
  const doctor = m('updateDoctor(id: $id, input: $input)', '$id: ID!, $input: UpdateDoctorInput!');
  const report = m(
    'updateStudyReport(id: $id, reportStatus: PRELIMINARY, report: $report)',
    '$id: ID!, $report: String',
  );
  // `type` is an enum: a canary in it is refused by GraphQL itself, and must not be logged either.
  const purge = m('purgeCache(patientId: $p, type: $t)', '$p: ID, $t: CacheEntityType', '');
  const consent = m('setConsent(patientId: $v, granted: true)', '$v: ID!');
  const entry = (fields: Record<string, string | null>) => ({
    input: { patientId: f.patientId, diagnosisCode: 'I10', diagnosis: 'Hypertension', ...fields },
  });
  const teamQuery = (field: string) =>
    m(`${field}(patientId: $p, doctorId: $d)`, '$p: ID!, $d: ID!');
  const team = (field: string) => [
    slot(`${field}(patientId)`, 'frontdesk', 'uuid', teamQuery(field), (v) => ({
      p: v,
      d: f.otherDoctorId,
    })),
    slot(`${field}(doctorId)`, 'frontdesk', 'uuid', teamQuery(field), (v) => ({
      p: f.patientId,
      d: v,
    })),
  ];
  return [
    ...READS.map(([field, argument, type, role, kind]) =>
      slot(
        `${field}(${argument})`,
        role,
        kind,
        `query ($v: ${type}) { ${field}(${argument}: $v) { id } }`,
        (v) => ({ v }),
      ),
    ),
    slot('updatePatient(id)', 'frontdesk', 'uuid', patient, (v) => ({
      id: v,
      input: { name: 'Valid Name' },
    })),
    ...(['name', 'phone', 'primaryDoctorId'] as const).map((field) =>
      slot(
        `updatePatient(input.${field})`,
        'frontdesk',
        field === 'name' ? 'text' : field === 'phone' ? 'phone' : 'uuid',
        patient,
        (v) => ({ id: f.patientId, input: { [field]: v } }),
      ),
    ),
    slot('addMedicalRecord(input.patientId)', 'clinician', 'uuid', record, (v) =>
      entry({ patientId: v }),
    ),
    slot('addMedicalRecord(input.diagnosisCode)', 'clinician', 'icd', record, (v) =>
      entry({ diagnosisCode: v }),
    ),
    slot('addMedicalRecord(input.diagnosis)', 'clinician', 'text', record, (v) =>
      entry({ diagnosis: v }),
    ),
    slot('addMedicalRecord(input.notes)', 'clinician', 'text', record, (v) => entry({ notes: v })),
    slot('updateStudyReport(id)', 'clinician', 'uuid', report, (v) => ({
      id: v,
      report: 'Normal',
    })),
    slot('updateStudyReport(report)', 'clinician', 'text', report, (v) => ({
      id: f.studyId,
      report: v,
    })),
    slot('setConsent(patientId)', 'frontdesk', 'uuid', consent, (v) => ({ v })),
    slot('updateDoctor(id)', 'admin', 'uuid', doctor, (v) => ({ id: v, input: { title: 'Dr' } })),
    ...(['name', 'title', 'specialty', 'departmentId'] as const).map((field) =>
      slot(
        `updateDoctor(input.${field})`,
        'admin',
        field === 'departmentId' ? 'uuid' : 'text',
        doctor,
        (v) => ({ id: f.otherDoctorId, input: { [field]: v } }),
      ),
    ),
    slot('purgeCache(patientId)', 'admin', 'uuid', purge, (v) => ({ p: v })),
    slot('purgeCache(type)', 'admin', 'text', purge, (v) => ({ t: v })),
    ...team('addCareTeamMember'),
    ...team('removeCareTeamMember'),
  ];
}

/**
 * Requests that carry a fresh canary in every string argument, one argument at a time, plus
 * the other ways a value enters: an inline literal, a GET query string, an operation name, a
 * break-glass reason. Spoiled requests hold a NUL byte (or a lone surrogate) in that argument.
 */
export function canaryRequests(
  f: CanaryFixture,
  canaries: Canaries,
  spoiled: boolean,
): CanaryRequest[] {
  const value = (kind: Kind, i: number) =>
    spoiled ? canaries.spoil(kind, i % 5 === 4 ? 'surrogate' : 'nul') : canaries.mint(kind);
  const requests: CanaryRequest[] = slots(f).map((slot, i) => ({
    label: slot.label,
    role: slot.role,
    query: slot.query,
    variables: slot.variables(value(slot.kind, i)),
  }));
  // Raw JSON of a string is a GraphQL string literal, with \u0000 as an escape GraphQL reads.
  const literal = JSON.stringify(spoiled ? canaries.spoil('text') : canaries.mint('text'));
  requests.push(
    {
      label: 'patients(search) literal',
      role: 'frontdesk',
      query: `{ patients(search: ${literal}) { id } }`,
    },
    {
      label: 'updatePatient(input.name) nested literal',
      role: 'frontdesk',
      query: `mutation ($id: ID!) { updatePatient(id: $id, input: { name: ${JSON.stringify(value('text', 0))} }) { id } }`,
      variables: { id: f.patientId },
    },
    {
      label: 'patients(search) over GET',
      role: 'frontdesk',
      method: 'GET',
      query: 'query ($s: String!) { patients(search: $s) { id } }',
      variables: { s: value('text', 0) },
    },
  );
  if (!spoiled) {
    requests.push(
      {
        label: 'operation name',
        role: 'frontdesk',
        query: `query ${canaries.mint('text')} { patients(search: "M000") { id } }`,
      },
      {
        label: 'X-Break-Glass reason',
        role: 'clinician',
        doctorId: f.otherDoctorId,
        query: 'query ($id: ID!) { patient(id: $id) { name records { diagnosis } } }',
        variables: { id: f.patientId },
        headers: {
          'x-break-glass': `${canaries.mint('text')} patient unconscious in the emergency room`,
        },
      },
    );
  }
  return requests;
}

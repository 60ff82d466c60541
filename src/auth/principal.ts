export const ROLES = ['clinician', 'frontdesk', 'patient', 'auditor', 'admin'] as const;

export type Role = (typeof ROLES)[number];

/** Who is calling, as proven by their bearer token. */
export interface Principal {
  readonly userId: string;
  readonly tenantId: string;
  readonly role: Role;
  /** Set for clinicians: the doctor they are. */
  readonly doctorId: string | undefined;
  /** Set for patients: the patient they are. */
  readonly patientId: string | undefined;
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as ReadonlyArray<string>).includes(value);
}

import { describe, expect, it } from 'vitest';
import { invalidationScopes } from '../../src/cache/scopes.js';
import type { DoctorRow, MedicalRecordRow, PatientRow } from '../../src/db/tables/index.js';

describe('invalidationScopes', () => {
  it("makes a record's patient, and so the patient's lists, stale", () => {
    const record = { id: 'r', patientId: 'p' } as MedicalRecordRow;
    expect(invalidationScopes('MedicalRecord', record)).toEqual([
      { kind: 'patient', patientId: 'p' },
    ]);
  });

  it('makes every search stale when a patient changes', () => {
    expect(invalidationScopes('Patient', { id: 'p' } as PatientRow)).toEqual([
      { kind: 'patient', patientId: 'p' },
      { kind: 'search' },
    ]);
  });

  it("makes reference data, including every department's doctor list, stale when a doctor changes", () => {
    expect(invalidationScopes('Doctor', { id: 'd', departmentId: 'x' } as DoctorRow)).toEqual([
      { kind: 'reference' },
    ]);
  });
});

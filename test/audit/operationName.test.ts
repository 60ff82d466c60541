import { describe, expect, it } from 'vitest';
import { createAuditTrail, MAX_OPERATION_NAME } from '../../src/audit/auditTrail.js';

const PATIENT = '0b7c6a52-3f1e-4c55-9d0e-6a1f2b3c4d5e';

function trail() {
  return createAuditTrail({
    principal: {
      userId: 'u',
      tenantId: 't1',
      role: 'clinician',
      doctorId: undefined,
      patientId: undefined,
    },
    requestId: 'r',
    clientAddress: '127.0.0.1',
    breakGlassReason: undefined,
  });
}

describe('the operation name on audit rows', () => {
  it('is cut at its cap, so one request cannot write megabytes of it on every row', () => {
    const audit = trail();
    audit.read({ resourceType: 'Patient', resourceId: PATIENT, patientId: PATIENT }, 'db');
    audit.setOperationName('A'.repeat(1_000_000));
    const [row] = audit.drain();
    expect(row?.operationName).toHaveLength(MAX_OPERATION_NAME);
    expect(row?.operationName?.endsWith('…')).toBe(true);
  });

  it('is kept whole up to the cap', () => {
    const audit = trail();
    audit.read({ resourceType: 'Patient', resourceId: PATIENT, patientId: PATIENT }, 'db');
    audit.setOperationName('B'.repeat(MAX_OPERATION_NAME));
    expect(audit.drain()[0]?.operationName).toBe('B'.repeat(MAX_OPERATION_NAME));
  });
});

import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { FinishWrite } from './finishWrite.js';
import { medicalRecords, patients, type MedicalRecordRow } from '../tables/index.js';

export interface NewMedicalRecord {
  readonly patientId: string;
  readonly authorId: string | null;
  readonly diagnosisCode: string;
  readonly diagnosis: string;
  readonly notes: string | null;
}

/**
 * Adds a record to a patient's chart in a transaction, locking the patient row so that the
 * record cannot be attached to a patient being removed.
 *
 * @returns the new row, or undefined when the tenant has no such patient.
 */
export function addMedicalRecord(
  db: Database,
  tenantId: string,
  record: NewMedicalRecord,
  finish: FinishWrite<MedicalRecordRow>,
): Promise<MedicalRecordRow | undefined> {
  return db.transaction(async (tx) => {
    const [patient] = await tx
      .select({ id: patients.id })
      .from(patients)
      .where(and(eq(patients.tenantId, tenantId), eq(patients.id, record.patientId)))
      .for('share');
    if (patient === undefined) return undefined;
    const [row] = await tx
      .insert(medicalRecords)
      .values({ tenantId, id: randomUUID(), recordedAt: new Date().toISOString(), ...record })
      .returning();
    if (row !== undefined) await finish(tx, row);
    return row;
  });
}

import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { FinishWrite } from './finishWrite.js';
import { patients, type PatientRow } from '../tables/index.js';

export interface PatientChanges {
  readonly name?: string | undefined;
  readonly phone?: string | null | undefined;
  readonly primaryDoctorId?: string | null | undefined;
}

/**
 * Updates a patient's editable demographics in a transaction, with its audit row and its invalidation.
 *
 * @returns the updated row, or undefined when the tenant has no such patient.
 * @throws the driver's foreign-key error when primaryDoctorId names no doctor of the tenant.
 */
export function updatePatient(
  db: Database,
  tenantId: string,
  id: string,
  changes: PatientChanges,
  finish: FinishWrite<PatientRow>,
): Promise<PatientRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(patients)
      .set({ ...changes, updatedAt: sql`now()` })
      .where(and(eq(patients.tenantId, tenantId), eq(patients.id, id)))
      .returning();
    if (row !== undefined) await finish(tx, row);
    return row;
  });
}

/**
 * Records a patient's consent decision in a transaction.
 *
 * @returns the updated row, or undefined when the tenant has no such patient.
 */
export function setConsent(
  db: Database,
  tenantId: string,
  id: string,
  granted: boolean,
  finish: FinishWrite<PatientRow>,
): Promise<PatientRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(patients)
      .set({ consentGranted: granted, updatedAt: sql`now()` })
      .where(and(eq(patients.tenantId, tenantId), eq(patients.id, id)))
      .returning();
    if (row !== undefined) await finish(tx, row);
    return row;
  });
}

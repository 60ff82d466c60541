import { and, eq } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { FinishWrite } from './finishWrite.js';
import { careTeam, patients, type PatientRow } from '../tables/index.js';

/**
 * Adds or removes a doctor on a patient's care team in a transaction, with its audit row and its invalidation.
 *
 * @returns the patient, or undefined when the tenant has no such patient.
 * @throws the driver's foreign-key error when the doctor is not one of the tenant's.
 */
export function changeCareTeam(
  db: Database,
  tenantId: string,
  change: { readonly patientId: string; readonly doctorId: string; readonly member: boolean },
  finish: FinishWrite<PatientRow>,
): Promise<PatientRow | undefined> {
  return db.transaction(async (tx) => {
    const [patient] = await tx
      .select()
      .from(patients)
      .where(and(eq(patients.tenantId, tenantId), eq(patients.id, change.patientId)))
      .for('update');
    if (patient === undefined) return undefined;
    const link = { tenantId, patientId: change.patientId, doctorId: change.doctorId };
    if (change.member) {
      await tx.insert(careTeam).values(link).onConflictDoNothing();
    } else {
      await tx
        .delete(careTeam)
        .where(
          and(
            eq(careTeam.tenantId, tenantId),
            eq(careTeam.patientId, link.patientId),
            eq(careTeam.doctorId, link.doctorId),
          ),
        );
    }
    await finish(tx, patient);
    return patient;
  });
}

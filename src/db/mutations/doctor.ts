import { and, eq } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { FinishWrite } from './finishWrite.js';
import { doctors, type DoctorRow } from '../tables/index.js';

export interface DoctorChanges {
  readonly name?: string | undefined;
  readonly title?: string | undefined;
  readonly specialty?: string | undefined;
  readonly departmentId?: string | undefined;
}

/**
 * Updates a doctor (reference data) in a transaction.
 *
 * @returns the updated row, or undefined when the tenant has no such doctor.
 * @throws the driver's foreign-key error when departmentId names no department of the tenant.
 */
export function updateDoctor(
  db: Database,
  tenantId: string,
  id: string,
  changes: DoctorChanges,
  finish: FinishWrite<DoctorRow>,
): Promise<DoctorRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(doctors)
      .set(changes)
      .where(and(eq(doctors.tenantId, tenantId), eq(doctors.id, id)))
      .returning();
    if (row !== undefined) await finish(tx, row);
    return row;
  });
}

import { and, eq } from 'drizzle-orm';
import type { Database } from '../client.js';
import type { FinishWrite } from './finishWrite.js';
import { studies, type StudyRow } from '../tables/index.js';

export type ReportStatus = StudyRow['reportStatus'];

/**
 * Sets a study's report status, and its report text when given, in a transaction.
 *
 * @returns the updated row, or undefined when the tenant has no such study.
 */
export function updateStudyReport(
  db: Database,
  tenantId: string,
  id: string,
  reportStatus: ReportStatus,
  report: string | null | undefined,
  finish: FinishWrite<StudyRow>,
): Promise<StudyRow | undefined> {
  return db.transaction(async (tx) => {
    const [row] = await tx
      .update(studies)
      .set({ reportStatus, ...(report === undefined ? {} : { report }) })
      .where(and(eq(studies.tenantId, tenantId), eq(studies.id, id)))
      .returning();
    if (row !== undefined) await finish(tx, row);
    return row;
  });
}

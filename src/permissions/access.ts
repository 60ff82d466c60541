import type { RequestContext } from '../graphql/context.js';
import { normalizeId } from '../graphql/ids.js';

/** How much of one patient the caller may read. */
export type PatientAccess = 'none' | 'demographics' | 'chart';

/** True when the caller is the patient themselves. */
export function isSelf(ctx: RequestContext, patientId: string): boolean {
  const { role, patientId: own } = ctx.principal;
  return role === 'patient' && own !== undefined && own === normalizeId(patientId);
}

/**
 * True when the caller is a clinician on the patient's care team. The care team is read
 * through the request's loaders (so through the cache), and every change to it invalidates
 * the patient, so a change takes effect on the next request.
 */
export async function isOnCareTeam(ctx: RequestContext, patientId: string): Promise<boolean> {
  const { role, doctorId } = ctx.principal;
  if (role !== 'clinician' || doctorId === undefined) return false;
  const team = await ctx.loaders.relations.patientCareTeam.load(patientId);
  return team.includes(doctorId);
}

/** Whether the patient has consented to their PHI being read by anyone but themselves. */
async function hasConsent(ctx: RequestContext, patientId: string): Promise<boolean> {
  return (await ctx.loaders.entities.Patient.load(patientId))?.consentGranted === true;
}

/**
 * The access rules of SPEC §1, for one patient:
 * - the patient reads their own chart;
 * - a clinician reads the chart of a patient whose care team they are on, while the patient
 *   consents; with break-glass, any patient of the tenant, consent or not;
 * - the front desk reads demographics, while the patient consents;
 * - nobody else reads anything.
 * Decided afresh on every field of every request, whatever layer served the data.
 */
export function patientAccess(ctx: RequestContext, patientId: string): Promise<PatientAccess> {
  // Every field of a chart asks again; the answer holds for the request until it writes.
  const key = `access:${normalizeId(patientId)}`;
  const known = ctx.decisions.get(key) as Promise<PatientAccess> | undefined;
  if (known !== undefined) return known;
  const decision = decidePatientAccess(ctx, patientId);
  ctx.decisions.set(key, decision);
  // A failed decision (a database error, say) is asked afresh by the next field.
  decision.catch(() => ctx.decisions.delete(key));
  return decision;
}

async function decidePatientAccess(ctx: RequestContext, patientId: string): Promise<PatientAccess> {
  if (isSelf(ctx, patientId)) return 'chart';
  switch (ctx.principal.role) {
    case 'clinician': {
      // Both together: their loads share one wave, so one L2 round trip.
      const [onTeam, consents] = await Promise.all([
        isOnCareTeam(ctx, patientId),
        hasConsent(ctx, patientId),
      ]);
      if (onTeam && consents) return 'chart';
      if (ctx.breakGlassReason === undefined) return 'none';
      // Emergency access to a patient of the tenant: audited as such, with the reason.
      if ((await ctx.loaders.entities.Patient.load(patientId)) === null) return 'none';
      ctx.audit.brokeGlass(patientId);
      return 'chart';
    }
    case 'frontdesk':
      return (await hasConsent(ctx, patientId)) ? 'demographics' : 'none';
    case 'patient':
    case 'auditor':
    case 'admin':
      return 'none';
  }
}

/** True when the caller may read a patient's clinical data (records, studies, care team). */
export async function mayReadChart(ctx: RequestContext, patientId: string): Promise<boolean> {
  return (await patientAccess(ctx, patientId)) === 'chart';
}

/** True when the caller may read a patient's demographics. */
export async function mayReadDemographics(
  ctx: RequestContext,
  patientId: string,
): Promise<boolean> {
  return (await patientAccess(ctx, patientId)) !== 'none';
}

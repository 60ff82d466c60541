import type { RequestContext } from '../graphql/context.js';
import { normalizeId } from '../graphql/ids.js';

/**
 * True when the caller is the patient themselves.
 */
export function isSelf(ctx: RequestContext, patientId: string): boolean {
  const { role, patientId: own } = ctx.principal;
  return role === 'patient' && own !== undefined && own === normalizeId(patientId);
}

/**
 * True when the caller is a clinician on the patient's care team. The care team is read
 * through the request's loader, so a change to it takes effect on the next request.
 */
export async function isOnCareTeam(ctx: RequestContext, patientId: string): Promise<boolean> {
  const { role, doctorId } = ctx.principal;
  if (role !== 'clinician' || doctorId === undefined) return false;
  const team = await ctx.loaders.relations.patientCareTeam.load(patientId);
  return team.includes(doctorId);
}

/** True when the caller may read a patient's clinical data (records, studies, care team). */
export async function mayReadChart(ctx: RequestContext, patientId: string): Promise<boolean> {
  return isSelf(ctx, patientId) || (await isOnCareTeam(ctx, patientId));
}

/** True when the caller may read a patient's demographics. */
export async function mayReadDemographics(
  ctx: RequestContext,
  patientId: string,
): Promise<boolean> {
  return ctx.principal.role === 'frontdesk' || (await mayReadChart(ctx, patientId));
}

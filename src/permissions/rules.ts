import { rule } from 'graphql-shield';
import type { RequestContext } from '../graphql/context.js';
import type { Role } from '../auth/principal.js';
import type { PatientRow } from '../db/tables/index.js';
import { isOnCareTeam, isSelf, mayReadChart, mayReadDemographics } from './access.js';

/**
 * A clinician writes to a chart only on the patient's care team, and only when they may read
 * it (consent, or break-glass): what they may not read, they may not write.
 */
async function mayWriteChart(ctx: RequestContext, patientId: string): Promise<boolean> {
  return (await isOnCareTeam(ctx, patientId)) && (await mayReadChart(ctx, patientId));
}

// Rule results are never cached across fields or requests: a decision depends on the
// caller, the row and the moment, and the loaders already make repeated checks cheap.
const NO_CACHE = { cache: 'no_cache' } as const;

export const hasRole = (...roles: Role[]) =>
  rule(
    `hasRole(${roles.join(',')})`,
    NO_CACHE,
  )((_parent, _args, ctx: RequestContext) => roles.includes(ctx.principal.role));

/** Patient fields of the demographic set: the front desk, the patient, the care team. */
export const canReadDemographics = rule(
  'canReadDemographics',
  NO_CACHE,
)((patient: PatientRow, _args, ctx: RequestContext) => mayReadDemographics(ctx, patient.id));

/** Everything else about a patient: the patient and the care team only. */
export const canReadChart = rule(
  'canReadChart',
  NO_CACHE,
)((patient: PatientRow, _args, ctx: RequestContext) => mayReadChart(ctx, patient.id));

/**
 * `patient(id)`: allowed for the roles that can read some of a patient, when the id is one
 * they may read. An id that names no patient of the tenant resolves to null, as for anyone.
 */
export const canQueryPatient = rule(
  'canQueryPatient',
  NO_CACHE,
)(async (_parent, args: { id: string }, ctx: RequestContext) => {
  if (ctx.principal.role === 'frontdesk') return true;
  if (ctx.principal.role !== 'clinician' && ctx.principal.role !== 'patient') return false;
  if (await mayReadChart(ctx, args.id)) return true;
  return (await ctx.loaders.entities.Patient.load(args.id)) === null;
});

/** `medicalRecord(id)` and `study(id)`: the patient or the care team; null when absent. */
export const canQueryClinicalEntry = (entity: 'MedicalRecord' | 'Study') =>
  rule(
    `canQuery${entity}`,
    NO_CACHE,
  )(async (_parent, args: { id: string }, ctx: RequestContext) => {
    if (ctx.principal.role !== 'clinician' && ctx.principal.role !== 'patient') return false;
    const entry = await ctx.loaders.entities[entity].load(args.id);
    return entry === null || mayReadChart(ctx, entry.patientId);
  });

/** `updatePatient`: the front desk, or a clinician on the care team. */
export const canUpdatePatient = rule(
  'canUpdatePatient',
  NO_CACHE,
)(
  async (_parent, args: { id: string }, ctx: RequestContext) =>
    ctx.principal.role === 'frontdesk' || mayWriteChart(ctx, args.id),
);

/** `addMedicalRecord`: a clinician on the care team. */
export const canAddMedicalRecord = rule(
  'canAddMedicalRecord',
  NO_CACHE,
)((_parent, args: { input: { patientId: string } }, ctx: RequestContext) =>
  mayWriteChart(ctx, args.input.patientId),
);

/** `updateStudyReport`: a clinician on the care team of the study's patient. */
export const canUpdateStudyReport = rule(
  'canUpdateStudyReport',
  NO_CACHE,
)(async (_parent, args: { id: string }, ctx: RequestContext) => {
  if (ctx.principal.role !== 'clinician') return false;
  const study = await ctx.loaders.entities.Study.load(args.id);
  // A missing study falls through to the resolver, which answers NOT_FOUND.
  return study === null || mayWriteChart(ctx, study.patientId);
});

/** `setConsent`: the patient, or the front desk on their behalf. */
export const canSetConsent = rule(
  'canSetConsent',
  NO_CACHE,
)(
  (_parent, args: { patientId: string }, ctx: RequestContext) =>
    ctx.principal.role === 'frontdesk' || isSelf(ctx, args.patientId),
);

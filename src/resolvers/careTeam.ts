import { changeCareTeam } from '../db/mutations/careTeam.js';
import { NotFoundError } from '../errors.js';
import { entityIdOf } from '../graphql/ids.js';
import type { RequestContext } from '../graphql/context.js';
import type { Resolvers } from '../generated/graphql.js';
import { rethrowWriteError } from './rethrowWriteError.js';

async function setMember(
  ctx: RequestContext,
  patientId: string,
  doctorId: string,
  member: boolean,
) {
  const change = {
    patientId: entityIdOf(patientId, 'Patient'),
    doctorId: entityIdOf(doctorId, 'Doctor'),
    member,
  };
  const patient = await changeCareTeam(
    ctx.db,
    ctx.principal.tenantId,
    change,
    ctx.finishWrite('Patient', (row) =>
      ctx.audit.writeRow({
        resourceType: 'CareTeam',
        resourceId: change.doctorId,
        patientId: row.id,
      }),
    ),
  ).catch(rethrowWriteError('doctorId'));
  if (patient === undefined) throw new NotFoundError('Patient');
  // The patient's generation covers its care-team list, so this takes effect at once.
  await ctx.afterWrite('Patient', patient);
  return patient;
}

export const careTeamResolvers: Resolvers = {
  Mutation: {
    addCareTeamMember: (_root, { patientId, doctorId }, ctx) =>
      setMember(ctx, patientId, doctorId, true),
    removeCareTeamMember: (_root, { patientId, doctorId }, ctx) =>
      setMember(ctx, patientId, doctorId, false),
  },
};

import { z } from 'zod';
import { updateStudyReport } from '../db/mutations/study.js';
import { NotFoundError } from '../errors.js';
import { entityIdOf } from '../graphql/ids.js';
import { toIsoTimestamp } from '../graphql/timestamps.js';
import { validateInput } from '../graphql/validateInput.js';
import type { Resolvers } from '../generated/graphql.js';
import { auditedWrite } from './auditedWrite.js';

const reportText = z.string().max(50_000).nullish();

export const studyResolvers: Resolvers = {
  Query: {
    study: (_root, { id }, ctx) => ctx.loaders.entities.Study.load(id),
  },
  Mutation: {
    updateStudyReport: async (_root, { id, reportStatus, report }, ctx) => {
      const text = validateInput(reportText, report, 'report');
      const row = await updateStudyReport(
        ctx.db,
        ctx.principal.tenantId,
        entityIdOf(id, 'Study'),
        reportStatus,
        text,
        auditedWrite(ctx, 'Study'),
      );
      if (row === undefined) throw new NotFoundError('Study');
      await ctx.afterWrite('Study', row);
      return row;
    },
  },
  Study: {
    patient: async (study, _args, ctx) => {
      const patient = await ctx.loaders.entities.Patient.load(study.patientId);
      if (patient === null) throw new NotFoundError('Patient');
      return patient;
    },
    orderingDoctor: (study, _args, ctx) =>
      study.orderingDoctorId === null
        ? null
        : ctx.loaders.entities.Doctor.load(study.orderingDoctorId),
    startedAt: (study) => toIsoTimestamp(study.startedAt),
  },
};

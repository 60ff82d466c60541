import { z } from 'zod';
import { addMedicalRecord } from '../db/mutations/record.js';
import { NotFoundError } from '../errors.js';
import { isUuid } from '../graphql/ids.js';
import { toIsoTimestamp } from '../graphql/timestamps.js';
import { validateInput } from '../graphql/validateInput.js';
import type { Resolvers } from '../generated/graphql.js';
import { auditedWrite } from './auditedWrite.js';

/** ICD-10-CM: a letter, two characters, then an optional dot and up to four more. */
const ICD10_PATTERN = /^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$/;

const addMedicalRecordInput = z.object({
  patientId: z.string().refine(isUuid, 'must be a uuid'),
  diagnosisCode: z
    .string()
    .trim()
    .transform((code) => code.toUpperCase())
    .refine((code) => ICD10_PATTERN.test(code), 'must be an ICD-10 code such as E11.9'),
  diagnosis: z.string().trim().min(1).max(500),
  notes: z.string().max(20_000).nullish(),
});

export const recordResolvers: Resolvers = {
  Query: {
    medicalRecord: (_root, { id }, ctx) => ctx.loaders.entities.MedicalRecord.load(id),
  },
  Mutation: {
    addMedicalRecord: async (_root, { input }, ctx) => {
      const record = validateInput(addMedicalRecordInput, input, 'input');
      const row = await addMedicalRecord(
        ctx.db,
        ctx.principal.tenantId,
        {
          ...record,
          notes: record.notes ?? null,
          authorId: ctx.principal.doctorId ?? null,
        },
        auditedWrite(ctx, 'MedicalRecord'),
      );
      if (row === undefined) throw new NotFoundError('Patient');
      await ctx.afterWrite('MedicalRecord', row);
      return row;
    },
  },
  MedicalRecord: {
    patient: async (record, _args, ctx) => {
      const patient = await ctx.loaders.entities.Patient.load(record.patientId);
      if (patient === null) throw new NotFoundError('Patient');
      return patient;
    },
    author: (record, _args, ctx) =>
      record.authorId === null ? null : ctx.loaders.entities.Doctor.load(record.authorId),
    recordedAt: (record) => toIsoTimestamp(record.recordedAt),
  },
};

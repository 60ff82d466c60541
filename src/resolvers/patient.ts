import { z } from 'zod';
import { setConsent, updatePatient } from '../db/mutations/patient.js';
import { NotFoundError } from '../errors.js';
import { entityIdOf, isUuid } from '../graphql/ids.js';
import { validateInput } from '../graphql/validateInput.js';
import type { Resolvers } from '../generated/graphql.js';
import { loadAll } from '../loaders/createLoaders.js';
import { onlyReadable, searchScopeOf } from '../permissions/searchScope.js';
import { auditedWrite } from './auditedWrite.js';
import { rethrowWriteError } from './rethrowWriteError.js';

const searchTerm = z.string().trim().min(2, 'must have at least 2 characters').max(100);
const pageSize = z.number().int().min(1).max(100);
const uuid = z.string().refine(isUuid, 'must be a uuid');
const updatePatientInput = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    phone: z
      .string()
      .regex(/^\+?[0-9 ()./-]{5,30}$/, 'must be a phone number')
      .nullish(),
    primaryDoctorId: uuid.nullish(),
  })
  .refine((input) => Object.keys(input).length > 0, 'must change at least one field');

export const patientResolvers: Resolvers = {
  Query: {
    patient: (_root, { id }, ctx) => ctx.loaders.entities.Patient.load(id),
    patients: async (_root, args, ctx) => {
      const term = validateInput(searchTerm, args.search, 'search');
      const first = validateInput(pageSize, args.first, 'first');
      // The scope filters in the statement, before its limit, so the page is full.
      const found = await ctx.searchPatients(term, first, searchScopeOf(ctx));
      return onlyReadable(ctx, found);
    },
  },
  Mutation: {
    updatePatient: async (_root, { id, input }, ctx) => {
      const changes = validateInput(updatePatientInput, input, 'input');
      const row = await updatePatient(
        ctx.db,
        ctx.principal.tenantId,
        entityIdOf(id, 'Patient'),
        changes,
        auditedWrite(ctx, 'Patient'),
      ).catch(rethrowWriteError('primaryDoctorId'));
      if (row === undefined) throw new NotFoundError('Patient');
      await ctx.afterWrite('Patient', row);
      return row;
    },
    setConsent: async (_root, { patientId, granted }, ctx) => {
      const row = await setConsent(
        ctx.db,
        ctx.principal.tenantId,
        entityIdOf(patientId, 'Patient'),
        granted,
        auditedWrite(ctx, 'Patient'),
      );
      if (row === undefined) throw new NotFoundError('Patient');
      await ctx.afterWrite('Patient', row);
      return row;
    },
  },
  Patient: {
    primaryDoctor: (patient, _args, ctx) =>
      patient.primaryDoctorId === null
        ? null
        : ctx.loaders.entities.Doctor.load(patient.primaryDoctorId),
    careTeam: async (patient, _args, ctx) => {
      const ids = await ctx.loaders.relations.patientCareTeam.load(patient.id);
      // Sorted on read: the cached list holds ids, and a doctor's name can change under it.
      const doctors = await loadAll(ctx.loaders.entities.Doctor, ids);
      return doctors.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    },
    records: async (patient, args, ctx) => {
      const first = validateInput(pageSize, args.first, 'first');
      const ids = await ctx.loaders.relations.patientRecords.load(patient.id);
      return loadAll(ctx.loaders.entities.MedicalRecord, ids.slice(0, first));
    },
    studies: async (patient, _args, ctx) =>
      loadAll(
        ctx.loaders.entities.Study,
        await ctx.loaders.relations.patientStudies.load(patient.id),
      ),
  },
};

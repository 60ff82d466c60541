import { z } from 'zod';
import { updateDoctor } from '../db/mutations/doctor.js';
import { listDoctors } from '../db/queries/listReference.js';
import { NotFoundError } from '../errors.js';
import { entityIdOf, isUuid } from '../graphql/ids.js';
import { validateInput } from '../graphql/validateInput.js';
import { loadAll } from '../loaders/createLoaders.js';
import type { Resolvers } from '../generated/graphql.js';
import { auditedWrite } from './auditedWrite.js';
import { rethrowWriteError } from './rethrowWriteError.js';

const text = z.string().trim().min(1).max(200);
const updateDoctorInput = z
  .object({
    name: text.optional(),
    title: text.optional(),
    specialty: text.optional(),
    departmentId: z.string().refine(isUuid, 'must be a uuid').optional(),
  })
  .refine((input) => Object.keys(input).length > 0, 'must change at least one field');

export const doctorResolvers: Resolvers = {
  Query: {
    doctor: (_root, { id }, ctx) => ctx.loaders.entities.Doctor.load(id),
    doctors: async (_root, { departmentId }, ctx) => {
      if (departmentId !== undefined && departmentId !== null) {
        return loadAll(
          ctx.loaders.entities.Doctor,
          await ctx.loaders.relations.departmentDoctors.load(departmentId),
        );
      }
      const rows = await listDoctors(ctx.db, ctx.principal.tenantId);
      for (const row of rows) ctx.loaders.entities.Doctor.prime(row.id, row);
      return rows;
    },
  },
  Mutation: {
    updateDoctor: async (_root, { id, input }, ctx) => {
      const changes = validateInput(updateDoctorInput, input, 'input');
      const row = await updateDoctor(
        ctx.db,
        ctx.principal.tenantId,
        entityIdOf(id, 'Doctor'),
        changes,
        auditedWrite(ctx, 'Doctor'),
      ).catch(rethrowWriteError('departmentId'));
      if (row === undefined) throw new NotFoundError('Doctor');
      await ctx.afterWrite('Doctor', row);
      return row;
    },
  },
  Doctor: {
    department: async (doctor, _args, ctx) => {
      const department = await ctx.loaders.entities.Department.load(doctor.departmentId);
      if (department === null) throw new NotFoundError('Department');
      return department;
    },
  },
};

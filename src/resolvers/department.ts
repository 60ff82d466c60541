import { listDepartments } from '../db/queries/listReference.js';
import type { Resolvers } from '../generated/graphql.js';
import { loadAll } from '../loaders/createLoaders.js';

export const departmentResolvers: Resolvers = {
  Query: {
    department: (_root, { id }, ctx) => ctx.loaders.entities.Department.load(id),
    departments: async (_root, _args, ctx) => {
      const rows = await listDepartments(ctx.db, ctx.principal.tenantId);
      for (const row of rows) ctx.loaders.entities.Department.prime(row.id, row);
      return rows;
    },
  },
  Department: {
    doctors: async (department, _args, ctx) =>
      loadAll(
        ctx.loaders.entities.Doctor,
        await ctx.loaders.relations.departmentDoctors.load(department.id),
      ),
  },
};

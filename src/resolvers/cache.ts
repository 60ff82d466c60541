import { z } from 'zod';
import { ENTITY_NAMES } from '../db/entities.js';
import { isUuid } from '../graphql/ids.js';
import { validateInput } from '../graphql/validateInput.js';
import type { Resolvers } from '../generated/graphql.js';

const purgeArgs = z.object({
  patientId: z.string().refine(isUuid, 'must be a uuid').nullish(),
  type: z.enum(ENTITY_NAMES as [string, ...string[]]).nullish(),
});

export const cacheResolvers: Resolvers = {
  Mutation: {
    purgeCache: (_root, args, ctx) => {
      validateInput(purgeArgs, args, 'arguments');
      // Only this request's L1 exists so far; the shared L2 and its purge land with the
      // layered cache. L1 entries are per request, so none of them count as purged.
      for (const loader of Object.values(ctx.loaders.entities)) loader.clearAll();
      for (const loader of Object.values(ctx.loaders.relations)) loader.clearAll();
      return 0;
    },
  },
};

import { z } from 'zod';
import { listAuditEvents } from '../db/queries/listAuditEvents.js';
import { isUuid } from '../graphql/ids.js';
import { toIsoTimestamp } from '../graphql/timestamps.js';
import { validateInput } from '../graphql/validateInput.js';
import type { Resolvers } from '../generated/graphql.js';

const pageSize = z.number().int().min(1).max(500);
const patientId = z.string().refine(isUuid, 'must be a uuid').nullish();

export const auditResolvers: Resolvers = {
  Query: {
    auditEvents: (_root, args, ctx) =>
      listAuditEvents(
        ctx.db,
        ctx.principal.tenantId,
        validateInput(patientId, args.patientId, 'patientId') ?? undefined,
        validateInput(pageSize, args.first, 'first'),
      ),
  },
  AuditEvent: {
    occurredAt: (event) => toIsoTimestamp(event.occurredAt),
  },
};

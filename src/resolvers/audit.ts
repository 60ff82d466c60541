import { z } from 'zod';
import { listAuditEvents } from '../db/queries/listAuditEvents.js';
import { isUuid } from '../graphql/ids.js';
import { toIsoTimestamp } from '../graphql/timestamps.js';
import { validateInput } from '../graphql/validateInput.js';
import type { AuditAction, AuditOutcome, CacheSource, Resolvers } from '../generated/graphql.js';

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
    id: (event) => String(event.id),
    occurredAt: (event) => toIsoTimestamp(event.occurredAt),
    // The table spells its values as SPEC §1 does (read, l2, allowed); GraphQL enums are upper case.
    action: (event) => event.action.toUpperCase() as AuditAction,
    outcome: (event) => event.outcome.toUpperCase() as AuditOutcome,
    cacheSource: (event) =>
      event.cacheSource === null ? null : (event.cacheSource.toUpperCase() as CacheSource),
  },
};

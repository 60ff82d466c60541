import { parseAuditCriteria } from '../audit/auditCriteria.js';
import { z } from 'zod';
import { listAuditEventPage } from '../db/queries/auditEventPage.js';
import { toIsoTimestamp } from '../graphql/timestamps.js';
import { validateInput } from '../graphql/validateInput.js';
import type { AuditAction, AuditOutcome, CacheSource, Resolvers } from '../generated/graphql.js';

const pageSize = z.number().int().min(1).max(500);

export const auditResolvers: Resolvers = {
  Query: {
    // SPEC §1's field, kept as it is: the newest events, of one patient or of all. Pages and
    // the other filters are auditEventsPage's (auditEventPage.ts).
    auditEvents: (_root, args, ctx) =>
      listAuditEventPage(ctx.db, {
        tenantId: ctx.principal.tenantId,
        criteria: parseAuditCriteria({ patientId: args.patientId }, (name) => name),
        order: 'newest',
        limit: validateInput(pageSize, args.first, 'first'),
      }),
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

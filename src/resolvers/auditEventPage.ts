import { z } from 'zod';
import { decodeAuditCursor, encodeAuditCursor } from '../audit/auditCursor.js';
import { parseAuditCriteria } from '../audit/auditCriteria.js';
import { countAuditEvents, listAuditEventPage } from '../db/queries/auditEventPage.js';
import type { AuditEventRow } from '../db/tables/index.js';
import { BadUserInputError } from '../errors.js';
import type { PageInfo, Resolvers } from '../generated/graphql.js';
import { validateInput } from '../graphql/validateInput.js';

/** What `auditEventsPage` resolves to: the page, and a count made only when it is asked for. */
export interface AuditEventPage {
  readonly edges: ReadonlyArray<{ readonly cursor: string; readonly node: AuditEventRow }>;
  readonly pageInfo: PageInfo;
  /** Events that match the filter on every page together: one COUNT, when selected. */
  readonly countAll: () => Promise<number>;
}

const pageSize = z.number().int().min(1).max(500);

export const auditEventPageResolvers: Resolvers = {
  Query: {
    auditEventsPage: async (_root, args, ctx) => {
      const first = validateInput(pageSize, args.first, 'first');
      const criteria = parseAuditCriteria(args.filter ?? {}, (name) => `filter.${name}`);
      let after;
      if (args.after !== null && args.after !== undefined) {
        after = decodeAuditCursor(args.after);
        if (after === undefined) {
          throw new BadUserInputError(
            'Invalid after: not a cursor of auditEventsPage (pass an edge cursor or endCursor as it was returned)',
            'after',
          );
        }
      }
      const tenantId = ctx.principal.tenantId;
      // One more than the page, to know whether another follows without counting.
      const rows = await listAuditEventPage(ctx.db, {
        tenantId,
        criteria,
        after,
        order: 'newest',
        limit: first + 1,
      });
      const edges = rows.slice(0, first).map((row) => ({
        cursor: encodeAuditCursor({ occurredAt: row.exactOccurredAt, id: row.id }),
        node: row,
      }));
      return {
        edges,
        pageInfo: {
          hasNextPage: rows.length > first,
          hasPreviousPage: false,
          startCursor: edges[0]?.cursor ?? null,
          endCursor: edges.at(-1)?.cursor ?? null,
        },
        countAll: () => countAuditEvents(ctx.db, tenantId, criteria),
      };
    },
  },
  AuditEventConnection: {
    totalCount: (page) => page.countAll(),
  },
};

import type { Principal } from '../../auth/principal.js';
import type { UnauthenticatedReason } from '../../errors.js';
import type { RequestContext } from '../../graphql/context.js';
import { totalOf, type LookupTally } from '../../loaders/lookupTally.js';
import { errorCodeOf } from './labels.js';

/** What the request log gathers of one `/graphql` request while it runs. */
export interface RequestRecord {
  readonly lookups: LookupTally;
  /** SQL statements the route handler sent, its audit commit included. */
  statements: number;
  /** The contexts of the operations that answered (a batch's in order; a rerun's replace them). */
  contexts: ReadonlyArray<RequestContext | undefined>;
  unauthenticated: UnauthenticatedReason | undefined;
  /** Codes of a refusal answered before or instead of GraphQL execution (its body). */
  refusalCodes: ReadonlyArray<string>;
}

export function createRequestRecord(lookups: LookupTally): RequestRecord {
  return {
    lookups,
    statements: 0,
    contexts: [],
    unauthenticated: undefined,
    refusalCodes: [],
  };
}

/**
 * The fields of a `/graphql` request's log line beyond those of every route: who (tenant and
 * role, never a user id), what (operation names, how their text arrived), what it cost (L1 and
 * L2 lookups, SQL statements) and how it ended (error codes, a refused token's reason).
 */
export function buildGraphqlFields(
  record: RequestRecord,
  principal: Principal | undefined,
  batch: number | undefined,
): Record<string, unknown> {
  const { contexts } = record;
  // A batch refused before it ran (too large, say) names no operations.
  const slots = contexts.length === 0 ? 0 : (batch ?? 1);
  const names: Array<string | null> = [];
  const kinds: Array<string | null> = [];
  const codes = new Set<string>(record.refusalCodes);
  for (let slot = 0; slot < slots; slot++) {
    const outcome = contexts[slot]?.outcome;
    names.push(outcome?.operationName ?? null);
    kinds.push(outcome?.persisted ?? null);
    for (const code of outcome?.errorCodes ?? []) codes.add(code);
    // Warnings (a write whose invalidation is delayed) are added to the response after it ran.
    for (const warning of contexts[slot]?.warnings ?? []) {
      const code = errorCodeOf(warning.extensions.code);
      if (code !== undefined) codes.add(code);
    }
  }
  const l1 = totalOf(record.lookups.l1);
  const l2 = totalOf(record.lookups.l2);
  return {
    ...(principal === undefined ? {} : { tenant: principal.tenantId, role: principal.role }),
    ...(batch === undefined
      ? { operation: names[0] ?? null, persisted: kinds[0] ?? null }
      : { batch, operations: names, persisted: kinds }),
    l1Hits: l1.hits,
    l1Misses: l1.misses,
    l2Hits: l2.hits,
    l2Misses: l2.misses,
    sqlStatements: record.statements,
    ...(codes.size === 0 ? {} : { errors: [...codes] }),
    ...(record.unauthenticated === undefined ? {} : { auth: record.unauthenticated }),
  };
}

/** The per-type lookups of a request, for its debug line: `{ l1: { Patient: {…} }, l2: … }`. */
export function buildCacheDetail(lookups: LookupTally): Record<string, unknown> {
  const layer = (byType: LookupTally['l1']) =>
    Object.fromEntries([...byType].filter(([, counts]) => counts.hits + counts.misses > 0));
  return { l1: layer(lookups.l1), l2: layer(lookups.l2) };
}

const MAX_PARSED_BODY = 64 * 1024;

/**
 * The error codes of a response body answered with an error status: a GraphQL response or a
 * batch of them. Only codes are read, never messages; a body too large or not JSON gives none.
 */
export function errorCodesOfBody(body: unknown): string[] {
  if (typeof body !== 'string' || body.length > MAX_PARSED_BODY) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  const responses: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
  return responses.flatMap((response) => {
    const errors: unknown = (response as { errors?: unknown } | null)?.errors;
    if (!Array.isArray(errors)) return [];
    return errors.flatMap((error) => {
      const code = errorCodeOf(
        (error as { extensions?: { code?: unknown } } | null)?.extensions?.code,
      );
      return code === undefined ? [] : [code];
    });
  });
}

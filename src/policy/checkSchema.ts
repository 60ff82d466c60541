import { getNamedType, isObjectType, type GraphQLOutputType, type GraphQLSchema } from 'graphql';
import { ENTITY_NAMES } from '../db/entities.js';
import type { CachePolicyMap } from './cachePolicy.js';
import { CachePolicyError, readCachePolicies } from './readCachePolicies.js';

export interface PolicyRow {
  readonly type: string;
  readonly field: string;
  readonly cacheClass: string;
  readonly maxAgeSeconds: number;
  readonly source: string;
}

export interface SchemaCheck {
  readonly rows: ReadonlyArray<PolicyRow>;
  readonly problems: ReadonlyArray<string>;
}

/**
 * Checks the cache rules of a schema, for `npm run check:schema`:
 * - a `@phi` maxAge over 300 s (and any other directive error);
 * - a type the cache stores that has no policy;
 * - a `@reference` field that returns a `@phi` type without an annotation of its own, which
 *   would keep PHI for a reference TTL.
 *
 * @returns the effective policy of every field, and every problem found.
 */
export function checkSchema(
  schema: GraphQLSchema,
  cachedTypes: ReadonlyArray<string> = ENTITY_NAMES,
): SchemaCheck {
  let policies: CachePolicyMap;
  try {
    policies = readCachePolicies(schema);
  } catch (error) {
    if (error instanceof CachePolicyError) return { rows: [], problems: error.problems };
    throw error;
  }
  const problems: string[] = [];
  for (const type of cachedTypes) {
    if (policies.get(type)?.policy === undefined)
      problems.push(`${type} is cached but has no @phi or @reference policy`);
  }
  const rows: PolicyRow[] = [];
  for (const [typeName, typePolicy] of policies) {
    const type = schema.getType(typeName);
    for (const [field, policy] of typePolicy.fields) {
      rows.push({ type: typeName, field, ...policy });
      if (!isObjectType(type) || policy.source !== 'type' || policy.cacheClass !== 'reference')
        continue;
      const returned = returnedTypeName(type.getFields()[field]?.type);
      if (returned !== undefined && policies.get(returned)?.policy?.cacheClass === 'phi') {
        problems.push(
          `${typeName}.${field} returns @phi type ${returned} under @reference; annotate the field with @phi`,
        );
      }
    }
  }
  return { rows, problems };
}

function returnedTypeName(type: GraphQLOutputType | undefined): string | undefined {
  return type === undefined ? undefined : getNamedType(type).name;
}

/** The policy table as aligned text, one field a line. */
export function formatPolicyTable(rows: ReadonlyArray<PolicyRow>): string {
  const header = ['type', 'field', 'class', 'maxAge (s)', 'from'];
  const lines = rows.map((r) => [r.type, r.field, r.cacheClass, String(r.maxAgeSeconds), r.source]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const format = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [format(header), format(widths.map((w) => '-'.repeat(w))), ...lines.map(format)].join(
    '\n',
  );
}

import {
  TypeInfo,
  visit,
  visitWithTypeInfo,
  getNamedType,
  isObjectType,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import type { ResolvedPolicy } from '../http/cacheControl/headers.js';
import { PHI_MAX_AGE_CAP_SECONDS, type CachePolicyMap } from '../policy/cachePolicy.js';

/**
 * The cache policy of every field a document can select, combined as the Cache-Control plugin
 * combines the fields a response resolved: whether any is PHI, and the smallest maxAge.
 */
export function resolvedPolicyOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  policies: CachePolicyMap,
): ResolvedPolicy {
  const resolved: ResolvedPolicy = { phi: false, minMaxAgeSeconds: Infinity, uncovered: false };
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const parentType = typeInfo.getParentType();
        const parent = parentType === null ? undefined : getNamedType(parentType);
        if (parent === undefined || !isObjectType(parent) || node.name.value.startsWith('__'))
          return;
        if (parent === schema.getQueryType() || parent === schema.getMutationType()) return;
        const policy = policies.get(parent.name)?.fields.get(node.name.value);
        if (policy === undefined) {
          resolved.uncovered = true;
          return;
        }
        if (policy.cacheClass === 'phi') resolved.phi = true;
        const maxAge =
          policy.cacheClass === 'phi'
            ? Math.min(policy.maxAgeSeconds, PHI_MAX_AGE_CAP_SECONDS)
            : policy.maxAgeSeconds;
        resolved.minMaxAgeSeconds = Math.min(resolved.minMaxAgeSeconds, maxAge);
      },
    }),
  );
  return resolved;
}

import {
  TypeInfo,
  visit,
  visitWithTypeInfo,
  getNamedType,
  isObjectType,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import { recordField, type ResolvedPolicy } from '../http/cacheControl/headers.js';
import type { CachePolicyMap } from '../policy/cachePolicy.js';

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
        if (parent === undefined || !isObjectType(parent)) return;
        const isRoot = parent === schema.getQueryType() || parent === schema.getMutationType();
        recordField(resolved, policies, parent.name, node.name.value, isRoot);
      },
    }),
  );
  return resolved;
}

import {
  TypeInfo,
  visit,
  visitWithTypeInfo,
  getNamedType,
  isObjectType,
  type DocumentNode,
  type GraphQLSchema,
} from 'graphql';
import type { CachePolicyMap } from '../../policy/cachePolicy.js';
import { recordField, type ResolvedPolicy } from './headers.js';

/**
 * The cache policy of every field a document can select: whether any is PHI, whether any has
 * no policy, and the smallest maxAge. Every field a response resolves is one the document
 * selects, so this is never less restrictive than the fields actually resolved, and it costs
 * one walk of the document instead of a hook on every resolved field.
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

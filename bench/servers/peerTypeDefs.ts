import { Kind, parse, print, visit, type ConstDirectiveNode } from 'graphql';
import type { CachePolicyMap } from '../../src/policy/cachePolicy.js';

const CACHE_CONTROL_DEFINITIONS = `
enum CacheControlScope { PUBLIC PRIVATE }
directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION
`;

/**
 * caregraph's SDL with Apollo's `@cacheControl` hints beside `@phi` and `@reference`, as a team
 * using Apollo's response cache would write them: the same maxAge, type by type and field by
 * field, and every hint PRIVATE. Reference data is per tenant, so a PUBLIC hint would share one
 * tenant's doctors with every other tenant's users.
 */
export function buildPeerTypeDefs(typeDefs: string, policies: CachePolicyMap): string {
  const hint = (maxAge: number): ConstDirectiveNode => ({
    kind: Kind.DIRECTIVE,
    name: { kind: Kind.NAME, value: 'cacheControl' },
    arguments: [
      {
        kind: Kind.ARGUMENT,
        name: { kind: Kind.NAME, value: 'maxAge' },
        value: { kind: Kind.INT, value: String(maxAge) },
      },
      {
        kind: Kind.ARGUMENT,
        name: { kind: Kind.NAME, value: 'scope' },
        value: { kind: Kind.ENUM, value: 'PRIVATE' },
      },
    ],
  });
  let typeName = '';
  const hinted = visit(parse(typeDefs), {
    ObjectTypeDefinition: {
      enter(node) {
        typeName = node.name.value;
        const policy = policies.get(typeName)?.policy;
        return policy === undefined
          ? undefined
          : { ...node, directives: [...(node.directives ?? []), hint(policy.maxAgeSeconds)] };
      },
    },
    FieldDefinition(node) {
      const policy = policies.get(typeName)?.fields.get(node.name.value);
      return policy === undefined
        ? undefined
        : { ...node, directives: [...(node.directives ?? []), hint(policy.maxAgeSeconds)] };
    },
  });
  return `${print(hinted)}\n${CACHE_CONTROL_DEFINITIONS}`;
}

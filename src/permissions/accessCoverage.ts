import { getNamedType, isObjectType, type GraphQLSchema } from 'graphql';
import type { CachePolicyMap } from '../policy/cachePolicy.js';
import { PATIENT_OF_SERVED_ENTRY, SERVED_WITH_ENTITY, type GuardedType } from './entityGuard.js';

/** Field names by type name: the fields that carry a shield rule. */
export type RuleFields = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

const ROOT_TYPES: ReadonlySet<string> = new Set(['Query', 'Mutation', 'Subscription']);

/** Some field of the schema is covered by no rule and no entity decision. */
export class AccessCoverageError extends Error {
  constructor(readonly problems: ReadonlyArray<string>) {
    super(
      `access rules do not cover every field (deny by default):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    this.name = 'AccessCoverageError';
  }
}

/**
 * Proves that deny by default still holds although shield only wraps the fields with a rule:
 * every field of the schema is reachable only through a decision. A field is covered when
 * - it has a rule of its own;
 * - it is a root field that returns reference data, which every signed-in caller reads
 *   (authentication, before GraphQL, guarantees the caller is signed in);
 * - it belongs to a PHI type and the entity's serve decision covers it (entityGuard.ts);
 * - it belongs to a `@reference` type;
 * - it belongs to any other type, every field returning which has a rule (the audit trail's
 *   events, reached only through `auditEvents`).
 * And since serving a patient decides nothing by itself, every field that returns a patient
 * has a rule, or is the patient of a record or study the caller was served.
 *
 * @returns one line per uncovered field; empty when every field is covered.
 */
export function checkAccessCoverage(
  schema: GraphQLSchema,
  rules: RuleFields,
  policies: CachePolicyMap,
): string[] {
  const ruled = (type: string, field: string) => rules[type]?.[field] !== undefined;
  const classOf = (type: string) => policies.get(type)?.policy?.cacheClass;
  const entering = new Map<string, string[]>();
  const objectTypes = Object.values(schema.getTypeMap()).filter(
    (type) => isObjectType(type) && !type.name.startsWith('__'),
  );
  for (const type of objectTypes) {
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const target = getNamedType(field.type).name;
      entering.set(target, [...(entering.get(target) ?? []), `${type.name}.${field.name}`]);
    }
  }
  const problems: string[] = [];
  for (const type of objectTypes) {
    if (!isObjectType(type)) continue;
    for (const field of Object.values(type.getFields())) {
      const name = `${type.name}.${field.name}`;
      if (ruled(type.name, field.name)) continue;
      if (getNamedType(field.type).name === 'Patient' && !PATIENT_OF_SERVED_ENTRY.has(name)) {
        problems.push(`${name}: a field that returns a patient needs a rule`);
        continue;
      }
      if (ROOT_TYPES.has(type.name)) {
        const returned = getNamedType(field.type);
        if (isObjectType(returned) && classOf(returned.name) === 'reference') continue;
        problems.push(`${name}: a root field needs a rule unless it returns reference data`);
        continue;
      }
      const cacheClass = classOf(type.name);
      if (cacheClass === 'phi') {
        const covered = SERVED_WITH_ENTITY[type.name as GuardedType] as
          ReadonlySet<string> | '*' | undefined;
        if (covered === '*' || covered?.has(field.name) === true) continue;
        problems.push(`${name}: a PHI field needs a rule or its entity's serve decision`);
        continue;
      }
      if (cacheClass === 'reference') continue;
      const unruled = (entering.get(type.name) ?? []).filter((path) => {
        const [owner = '', via = ''] = path.split('.');
        return !ruled(owner, via);
      });
      if (unruled.length > 0) {
        problems.push(
          `${name}: ${type.name} is reached without a rule through ${unruled.join(', ')}`,
        );
      }
    }
  }
  return problems;
}

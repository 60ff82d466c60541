import {
  isObjectType,
  valueFromAST,
  GraphQLInt,
  type ConstDirectiveNode,
  type GraphQLSchema,
} from 'graphql';
import {
  PHI_MAX_AGE_CAP_SECONDS,
  type CacheClass,
  type CachePolicy,
  type CachePolicyMap,
  type TypePolicy,
} from './cachePolicy.js';

/** A directive breaks a cache rule. Start-up and `npm run check:schema` treat it as fatal. */
export class CachePolicyError extends Error {
  constructor(readonly problems: ReadonlyArray<string>) {
    super(`Invalid cache policy:\n  - ${problems.join('\n  - ')}`);
    this.name = 'CachePolicyError';
  }
}

const DEFAULT_MAX_AGE: Record<CacheClass, number> = {
  phi: PHI_MAX_AGE_CAP_SECONDS,
  reference: 3600,
};

/**
 * Reads `@phi` and `@reference` from the schema's AST, as Apollo's cacheControl plugin reads
 * `@cacheControl`, into a typed policy map. Where a type and its field both carry a policy,
 * the field gets the smaller maxAge, and PHI wins over reference.
 *
 * @throws CachePolicyError when a `@phi` maxAge exceeds 300 s, a maxAge is negative, or an
 *   element carries both directives.
 */
export function readCachePolicies(schema: GraphQLSchema): CachePolicyMap {
  const problems: string[] = [];
  const map = new Map<string, TypePolicy>();

  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    const typePolicy = policyOf(type.astNode?.directives, type.name, 'type', problems);
    const fields = new Map<string, CachePolicy>();
    for (const field of Object.values(type.getFields())) {
      const own = policyOf(
        field.astNode?.directives,
        `${type.name}.${field.name}`,
        'field',
        problems,
      );
      const effective = combine(typePolicy, own);
      if (effective !== undefined) fields.set(field.name, effective);
    }
    if (typePolicy !== undefined || fields.size > 0) {
      map.set(type.name, { typeName: type.name, policy: typePolicy, fields });
    }
  }

  if (problems.length > 0) throw new CachePolicyError(problems);
  return map;
}

function policyOf(
  directives: ReadonlyArray<ConstDirectiveNode> | undefined,
  where: string,
  source: 'type' | 'field',
  problems: string[],
): CachePolicy | undefined {
  const found = (directives ?? []).filter(
    (d) => d.name.value === 'phi' || d.name.value === 'reference',
  );
  const [directive, extra] = found;
  if (directive === undefined) return undefined;
  if (extra !== undefined) {
    problems.push(`${where} carries both @phi and @reference; choose one`);
  }
  const cacheClass: CacheClass = directive.name.value === 'phi' ? 'phi' : 'reference';
  const argument = directive.arguments?.find((a) => a.name.value === 'maxAge');
  const value: unknown =
    argument === undefined ? DEFAULT_MAX_AGE[cacheClass] : valueFromAST(argument.value, GraphQLInt);
  const maxAgeSeconds = typeof value === 'number' ? value : Number.NaN;
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0) {
    problems.push(`${where}: @${cacheClass}(maxAge) must be a non-negative integer`);
  } else if (cacheClass === 'phi' && maxAgeSeconds > PHI_MAX_AGE_CAP_SECONDS) {
    problems.push(
      `${where}: @phi(maxAge: ${maxAgeSeconds}) exceeds the HIPAA cap of ${PHI_MAX_AGE_CAP_SECONDS} seconds`,
    );
  }
  return { cacheClass, maxAgeSeconds, source };
}

function combine(
  typePolicy: CachePolicy | undefined,
  own: CachePolicy | undefined,
): CachePolicy | undefined {
  if (typePolicy === undefined) return own;
  if (own === undefined) return { ...typePolicy, source: 'type' };
  return {
    cacheClass: typePolicy.cacheClass === 'phi' || own.cacheClass === 'phi' ? 'phi' : 'reference',
    maxAgeSeconds: Math.min(typePolicy.maxAgeSeconds, own.maxAgeSeconds),
    source: 'type+field',
  };
}

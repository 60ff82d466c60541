import {
  Kind,
  OperationTypeNode,
  type ArgumentNode,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  isInterfaceType,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import { ErrorCode } from '../errors.js';

export interface RequestLimits {
  readonly maxDepth: number;
  readonly maxCost: number;
  readonly maxAliases: number;
}

/** A list field without a `first` argument counts as this many items. */
export const DEFAULT_LIST_SIZE = 20;

export interface LimitViolation {
  readonly code: ErrorCode;
  readonly message: string;
}

/**
 * Checks a parsed document against the request limits before it is validated or run, so that
 * a depth, cost or alias bomb costs one bounded walk of its AST.
 *
 * The cost model: every field costs 1; a field that returns a list multiplies the cost of its
 * selection by its `first` argument (a literal or a variable), or by DEFAULT_LIST_SIZE when
 * it has none. Fragments count where they are spread.
 *
 * @returns the first limit broken, or undefined.
 */
export function checkRequestLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  limits: RequestLimits,
  variables: Record<string, unknown> | undefined,
): LimitViolation | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.set(definition.name.value, definition);
  }
  let aliases = 0;
  let worstDepth = 0;
  let worstCost = 0;

  // Returns the cost of a selection set; tracks depth and aliases on the way.
  const walk = (
    selectionSet: SelectionSetNode,
    type: GraphQLNamedType | undefined,
    depth: number,
    seen: ReadonlySet<string>,
  ): number => {
    if (depth > limits.maxDepth) return Infinity;
    worstDepth = Math.max(worstDepth, depth);
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.alias !== undefined) aliases++;
        const field = fieldOf(type, selection.name.value);
        const childType = field === undefined ? undefined : getNamedType(field.type);
        const child =
          selection.selectionSet === undefined
            ? 0
            : walk(selection.selectionSet, childType, depth + 1, seen);
        const list = field !== undefined && isListType(getNullableType(field.type));
        cost += 1 + (list ? listSize(selection.arguments ?? [], variables) : 1) * child;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition =
          selection.typeCondition === undefined
            ? type
            : schema.getType(selection.typeCondition.name.value);
        cost += walk(selection.selectionSet, condition ?? type, depth, seen);
      } else {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        // A fragment that spreads itself is invalid; validation reports it, the walk stops.
        if (fragment === undefined || seen.has(name)) continue;
        const condition = schema.getType(fragment.typeCondition.name.value);
        cost += walk(fragment.selectionSet, condition ?? type, depth, new Set([...seen, name]));
      }
      if (aliases > limits.maxAliases) return Infinity;
    }
    return cost;
  };

  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    const root =
      definition.operation === OperationTypeNode.MUTATION
        ? schema.getMutationType()
        : definition.operation === OperationTypeNode.SUBSCRIPTION
          ? schema.getSubscriptionType()
          : schema.getQueryType();
    worstCost = Math.max(worstCost, walk(definition.selectionSet, root ?? undefined, 1, new Set()));
    if (aliases > limits.maxAliases) {
      return {
        code: ErrorCode.TooManyAliases,
        message: `Queries may use at most ${limits.maxAliases} aliases`,
      };
    }
    if (worstDepth > limits.maxDepth || worstCost === Infinity) {
      return {
        code: ErrorCode.QueryTooDeep,
        message: `Queries may nest at most ${limits.maxDepth} levels deep`,
      };
    }
    if (worstCost > limits.maxCost) {
      return {
        code: ErrorCode.QueryTooCostly,
        message: `Query cost ${worstCost} exceeds the limit of ${limits.maxCost}`,
      };
    }
  }
  return undefined;
}

function fieldOf(
  type: GraphQLNamedType | undefined,
  name: string,
): GraphQLField<unknown, unknown> | undefined {
  return type !== undefined && (isObjectType(type) || isInterfaceType(type))
    ? type.getFields()[name]
    : undefined;
}

function listSize(
  args: ReadonlyArray<ArgumentNode>,
  variables: Record<string, unknown> | undefined,
): number {
  const first = args.find((arg) => arg.name.value === 'first')?.value;
  if (first === undefined) return DEFAULT_LIST_SIZE;
  const value: unknown =
    first.kind === Kind.INT
      ? Number(first.value)
      : first.kind === Kind.VARIABLE
        ? variables?.[first.name.value]
        : undefined;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? value
    : DEFAULT_LIST_SIZE;
}

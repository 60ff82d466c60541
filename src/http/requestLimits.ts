import {
  Kind,
  OperationTypeNode,
  getNamedType,
  getNullableType,
  isInterfaceType,
  isListType,
  isObjectType,
  valueFromASTUntyped,
  type ArgumentNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
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

interface Measure {
  cost: number;
  depth: number;
  aliases: number;
}

/**
 * Checks the operation a request runs against the request limits, in time linear in the size
 * of the document: each fragment is measured once and reused wherever it is spread, and every
 * count saturates just past its limit, so no document can overflow or poison the sums.
 *
 * The cost model: every field costs 1; a field that returns a list multiplies the cost of its
 * selection by its `first` argument (a literal, a variable, or the variable's default), or by
 * DEFAULT_LIST_SIZE when it has none. Introspection fields are not counted.
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
  const operations: OperationDefinitionNode[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.set(definition.name.value, definition);
    if (definition.kind === Kind.OPERATION_DEFINITION) operations.push(definition);
  }
  // Every operation of the document is checked, whichever the request names: a spare operation
  // must not be able to hide anything.
  const cap = (value: number, limit: number) => Math.min(value, limit + 1);

  for (const operation of operations) {
    const values = { ...defaultsOf(operation), ...variables };
    const memo = new Map<string, Measure>();
    const measure = (
      selectionSet: SelectionSetNode,
      type: GraphQLNamedType | undefined,
      active: ReadonlySet<string>,
    ): Measure => {
      const total: Measure = { cost: 0, depth: 0, aliases: 0 };
      for (const selection of selectionSet.selections) {
        let part: Measure;
        if (selection.kind === Kind.FIELD) {
          // Introspection is free, but its aliases count like any other.
          if (selection.name.value.startsWith('__')) {
            total.aliases = cap(
              total.aliases + (selection.alias === undefined ? 0 : 1),
              limits.maxAliases,
            );
            continue;
          }
          const field = fieldOf(type, selection.name.value);
          const child =
            selection.selectionSet === undefined
              ? { cost: 0, depth: 0, aliases: 0 }
              : measure(
                  selection.selectionSet,
                  field === undefined ? undefined : getNamedType(field.type),
                  active,
                );
          const items =
            field !== undefined && isListType(getNullableType(field.type))
              ? listSize(selection.arguments ?? [], values)
              : 1;
          part = {
            cost: 1 + items * child.cost,
            depth: 1 + child.depth,
            aliases: (selection.alias === undefined ? 0 : 1) + child.aliases,
          };
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const condition =
            selection.typeCondition === undefined
              ? type
              : schema.getType(selection.typeCondition.name.value);
          part = measure(selection.selectionSet, condition ?? type, active);
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          // A fragment that spreads itself is invalid (validation says so); count it as nothing.
          if (fragment === undefined || active.has(name)) continue;
          let known = memo.get(name);
          if (known === undefined) {
            known = measure(
              fragment.selectionSet,
              schema.getType(fragment.typeCondition.name.value) ?? type,
              new Set([...active, name]),
            );
            memo.set(name, known);
          }
          part = known;
        }
        total.cost = cap(total.cost + part.cost, limits.maxCost);
        total.depth = Math.max(total.depth, cap(part.depth, limits.maxDepth));
        total.aliases = cap(total.aliases + part.aliases, limits.maxAliases);
      }
      return total;
    };
    const root =
      operation.operation === OperationTypeNode.MUTATION
        ? schema.getMutationType()
        : operation.operation === OperationTypeNode.SUBSCRIPTION
          ? schema.getSubscriptionType()
          : schema.getQueryType();
    const result = measure(operation.selectionSet, root ?? undefined, new Set());
    if (result.aliases > limits.maxAliases) {
      return {
        code: ErrorCode.TooManyAliases,
        message: `Queries may use at most ${limits.maxAliases} aliases`,
      };
    }
    if (result.depth > limits.maxDepth) {
      return {
        code: ErrorCode.QueryTooDeep,
        message: `Queries may nest at most ${limits.maxDepth} levels deep`,
      };
    }
    if (!(result.cost <= limits.maxCost)) {
      return {
        code: ErrorCode.QueryTooCostly,
        message: `Query cost exceeds the limit of ${limits.maxCost}`,
      };
    }
  }
  return undefined;
}

function defaultsOf(operation: OperationDefinitionNode): Record<string, unknown> {
  const defaults: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    if (definition.defaultValue !== undefined) {
      defaults[definition.variable.name.value] = valueFromASTUntyped(definition.defaultValue);
    }
  }
  return defaults;
}

function fieldOf(
  type: GraphQLNamedType | undefined,
  name: string,
): GraphQLField<unknown, unknown> | undefined {
  return type !== undefined && (isObjectType(type) || isInterfaceType(type))
    ? type.getFields()[name]
    : undefined;
}

function listSize(args: ReadonlyArray<ArgumentNode>, variables: Record<string, unknown>): number {
  const first = args.find((arg) => arg.name.value === 'first')?.value;
  if (first === undefined) return DEFAULT_LIST_SIZE;
  const value: unknown =
    first.kind === Kind.INT
      ? Number(first.value)
      : first.kind === Kind.VARIABLE
        ? variables[first.name.value]
        : undefined;
  // An absent or odd value counts as the default; a huge one counts as what it asks for.
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? value
    : DEFAULT_LIST_SIZE;
}

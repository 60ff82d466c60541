import type { ApolloServerPlugin } from '@apollo/server';
import {
  BREAK,
  Kind,
  visit,
  type ASTNode,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from 'graphql';
import { UnstorableTextError } from '../../errors.js';
import { isStorableText } from './storableText.js';

/**
 * Refuses, before anything runs, an operation whose string arguments hold text Postgres
 * refuses (U+0000) or would silently change (a lone UTF-16 surrogate, written as U+FFFD):
 * in literals of the document, in default values, and anywhere in the variables, nested
 * objects and lists included. The answer is BAD_USER_INPUT with HTTP 400, naming the argument
 * or variable, never its value. Each request's input is read once, in linear time.
 */
export function textInputPlugin(): ApolloServerPlugin {
  // Documents come from Apollo's store, parsed once, so an operation's literals are checked once.
  const literals = new WeakMap<OperationDefinitionNode, string | null>();
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ document, operation, request }) {
          // Apollo refuses a request that names no operation of its document before this hook.
          if (operation === undefined) return Promise.resolve();
          let literal = literals.get(operation);
          if (literal === undefined) {
            literal = firstUnstorableLiteral(document, operation) ?? null;
            literals.set(operation, literal);
          }
          const name =
            literal ??
            (request.variables === undefined
              ? undefined
              : firstUnstorableVariable(request.variables));
          if (name !== undefined) throw new UnstorableTextError(name);
          return Promise.resolve();
        },
      });
    },
  };
}

/** The argument holding an unstorable string literal of the operation or its fragments. */
function firstUnstorableLiteral(
  document: DocumentNode,
  operation: OperationDefinitionNode,
): string | undefined {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION)
      fragments.set(definition.name.value, definition);
  }
  const pending: ASTNode[] = [operation];
  const queued = new Set<string>();
  let found: string | undefined;
  for (let next = pending.pop(); next !== undefined && found === undefined; next = pending.pop()) {
    visit(next, {
      FragmentSpread(node) {
        const fragment = fragments.get(node.name.value);
        if (fragment !== undefined && !queued.has(fragment.name.value)) {
          queued.add(fragment.name.value);
          pending.push(fragment);
        }
      },
      StringValue(node, _key, parent, _path, ancestors) {
        if (isStorableText(node.value)) return undefined;
        found = argumentPath([...ancestors, parent ?? []]);
        return BREAK;
      },
    });
  }
  return found;
}

/** `input.name` for a literal inside `(input: { name: "…" })`, `$s` in a variable's default. */
function argumentPath(ancestors: ReadonlyArray<ASTNode | ReadonlyArray<ASTNode>>): string {
  let parts: string[] = [];
  for (const ancestor of ancestors) {
    if (!('kind' in ancestor)) continue;
    if (ancestor.kind === Kind.ARGUMENT) parts = [ancestor.name.value];
    else if (ancestor.kind === Kind.VARIABLE_DEFINITION)
      parts = [`$${ancestor.variable.name.value}`];
    else if (ancestor.kind === Kind.OBJECT_FIELD) parts.push(ancestor.name.value);
  }
  return parts.length === 0 ? 'argument' : parts.join('.');
}

interface Entry {
  readonly value: unknown;
  readonly parent: Entry | undefined;
  readonly key: string | number;
}

const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;
const MAX_PATH_PARTS = 8;

/**
 * The path of an unstorable string (a value or a key) in the variables. Iterative, so that
 * deeply nested JSON costs time in proportion to its size and never the call stack.
 */
function firstUnstorableVariable(variables: Readonly<Record<string, unknown>>): string | undefined {
  const pending: Entry[] = [];
  for (const [key, value] of Object.entries(variables)) {
    if (!isStorableText(key)) return '$*';
    pending.push({ value, parent: undefined, key });
  }
  for (let entry = pending.pop(); entry !== undefined; entry = pending.pop()) {
    const { value } = entry;
    if (typeof value === 'string') {
      if (!isStorableText(value)) return variablePath(entry);
    } else if (Array.isArray(value)) {
      value.forEach((item: unknown, index) =>
        pending.push({ value: item, parent: entry, key: index }),
      );
    } else if (typeof value === 'object' && value !== null) {
      for (const [key, item] of Object.entries(value)) {
        if (!isStorableText(key)) return variablePath(entry);
        pending.push({ value: item, parent: entry, key });
      }
    }
  }
  return undefined;
}

/** `$input.name`, `$ids[2]`: names only, and only names that are GraphQL names. */
function variablePath(entry: Entry): string {
  const keys: Array<string | number> = [];
  for (let at: Entry | undefined = entry; at !== undefined; at = at.parent) keys.push(at.key);
  keys.reverse();
  const shown = keys.slice(0, MAX_PATH_PARTS).map((key, i) => {
    if (typeof key === 'number') return `[${String(key)}]`;
    const name = NAME.test(key) ? key : '*';
    return i === 0 ? `$${name}` : `.${name}`;
  });
  return `${shown.join('')}${keys.length > MAX_PATH_PARTS ? '…' : ''}`;
}

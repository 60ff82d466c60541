/**
 * How a response was refused: which paths carry FORBIDDEN, which read null, and whether each
 * refusal nulled its own field alone (SPEC §1) or took its parent with it.
 */
import type { GraphQLResponse } from '../support/testServer.js';
import type { Outcome } from './accessMatrix.js';

/** The value at a response path, or undefined when something above it is absent. */
function valueAt(data: unknown, path: ReadonlyArray<unknown>): unknown {
  let value = data;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[String(key)];
  }
  return value;
}

/** True when the path reads null and what holds it is served (the root, or an object). */
function nullsAlone(data: unknown, path: ReadonlyArray<unknown> | undefined): boolean {
  if (path === undefined || path.length === 0) return false;
  const parent = valueAt(data, path.slice(0, -1));
  return parent !== null && typeof parent === 'object' && valueAt(data, path) === null;
}

/** Every path in the data that reads null, dotted. */
function nullPaths(value: unknown, path: string[] = []): string[] {
  if (value === null) return [path.join('.')];
  if (typeof value !== 'object') return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, v]) =>
    nullPaths(v, [...path, key]),
  );
}

/** Where a response was refused, and where it reads null, as dotted paths. */
export interface Refusals {
  readonly forbidden: string[];
  readonly nulls: string[];
}

/** The refusals and nulls of a response, sorted. */
export function refusalsOf(response: GraphQLResponse): Refusals {
  const errors = response.body.errors ?? [];
  const forbidden = errors.map((e) =>
    e.extensions?.code === 'FORBIDDEN'
      ? (e.path ?? []).join('.')
      : `${String(e.extensions?.code)}!`,
  );
  return { forbidden: forbidden.sort(), nulls: nullPaths(response.body.data).sort() };
}

/** What a response says about one cell of the matrix. */
export function outcomeOf(response: GraphQLResponse): Outcome | 'unexpected' {
  const errors = response.body.errors ?? [];
  const data = response.body.data;
  const values = Object.values(data ?? {});
  // A denial is FORBIDDEN errors only, each on a field that reads null while what holds it
  // is served: a refusal that nulled its parent took readable siblings with it (SPEC §1).
  if (errors.length > 0) {
    return errors.every((e) => e.extensions?.code === 'FORBIDDEN' && nullsAlone(data, e.path))
      ? 'deny'
      : 'unexpected';
  }
  if (values.length > 0 && values.every((v) => v === null)) return 'null';
  return values.length > 0 ? 'allow' : 'unexpected';
}

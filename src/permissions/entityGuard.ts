import {
  defaultFieldResolver,
  getNamedType,
  isObjectType,
  type GraphQLFieldResolver,
  type GraphQLSchema,
} from 'graphql';
import type { AuditSubject } from '../audit/auditTrail.js';
import type { MedicalRecordRow, PatientRow, StudyRow } from '../db/tables/index.js';
import { ForbiddenError } from '../errors.js';
import type { RequestContext } from '../graphql/context.js';
import { mayReadChart } from './access.js';

/** The PHI types, each served through one decision per entity per request. */
export type GuardedType = 'Patient' | 'MedicalRecord' | 'Study';

interface GuardedRows {
  readonly Patient: PatientRow;
  readonly MedicalRecord: MedicalRecordRow;
  readonly Study: StudyRow;
}

/**
 * Whether the caller may be served this entity at all. A patient is always served to whoever
 * a rule let reach it; its fields carry rules of their own, since roles differ by field. A
 * record or a study is served only with its own patient's chart, decided by the patient its
 * row names (whatever layer served the row), so its fields need no rule.
 */
const SERVE_DECISIONS: {
  readonly [T in GuardedType]: (ctx: RequestContext, row: GuardedRows[T]) => Promise<boolean>;
} = {
  Patient: () => Promise.resolve(true),
  MedicalRecord: (ctx, row) => mayReadChart(ctx, row.patientId),
  Study: (ctx, row) => mayReadChart(ctx, row.patientId),
};

/** Fields of a guarded type that the serve decision covers: no rule of their own is needed. */
export const SERVED_WITH_ENTITY: { readonly [T in GuardedType]: ReadonlySet<string> | '*' } = {
  // Whoever is served a patient may see which patient it is and whether they consent.
  Patient: new Set(['id', 'consentGranted']),
  MedicalRecord: '*',
  Study: '*',
};

/**
 * Fields that serve a patient without a rule: the patient of a record or study the caller was
 * just served, which the record's own decision (its patient's chart) already covers. Every
 * other field that returns a patient needs a rule, since serving a patient decides nothing.
 */
export const PATIENT_OF_SERVED_ENTRY: ReadonlySet<string> = new Set([
  'MedicalRecord.patient',
  'Study.patient',
]);

const REFUSED = Symbol('refused entity');

/**
 * Wraps the resolvers of the schema, in place, so that every PHI entity reaches the response
 * through `serve`, once per field that returns it:
 * - each entity is decided once per request (the decisions are memoized), audited as read,
 *   with the layer that served it, or as denied;
 * - a refused record or study is replaced by a stand-in whose every field answers FORBIDDEN,
 *   so the refusal lands on exactly the fields asked for, as a rule's would;
 * - fields of records and studies with resolvers of their own refuse a stand-in parent.
 */
export function guardEntities(schema: GraphQLSchema, guarded: ReadonlySet<string>): void {
  const standIns = new Map<string, object>();
  for (const name of guarded) {
    const type = schema.getType(name);
    if (isObjectType(type)) standIns.set(name, refusedStandIn(Object.keys(type.getFields())));
  }
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const resolve: GraphQLFieldResolver<unknown, RequestContext> =
        field.resolve ?? defaultFieldResolver;
      const returned = getNamedType(field.type).name;
      if (guarded.has(returned)) {
        const entityType = returned as GuardedType;
        field.resolve = async (parent, args, ctx: RequestContext, info) =>
          serve(ctx, entityType, await resolve(parent, args, ctx, info), standIns);
      }
      if (guarded.has(type.name) && SERVED_WITH_ENTITY[type.name as GuardedType] === '*') {
        // Default-resolved fields of a stand-in answer FORBIDDEN by themselves.
        if (field.resolve === undefined) continue;
        const inner = field.resolve;
        field.resolve = (parent, args, ctx, info) =>
          isRefused(parent) ? refuse() : inner(parent, args, ctx, info);
      }
    }
  }
}

/** Serves what a field returned: one entity, a list of them, or null. */
async function serve(
  ctx: RequestContext,
  type: GuardedType,
  value: unknown,
  standIns: ReadonlyMap<string, object>,
): Promise<unknown> {
  if (value === null || value === undefined) return value;
  const one = (row: unknown) => serveOne(ctx, type, row as GuardedRows[GuardedType], standIns);
  return Array.isArray(value) ? Promise.all(value.map(one)) : one(value);
}

async function serveOne<T extends GuardedType>(
  ctx: RequestContext,
  type: T,
  row: GuardedRows[T],
  standIns: ReadonlyMap<string, object>,
): Promise<unknown> {
  const subject: AuditSubject = {
    resourceType: type,
    resourceId: row.id,
    patientId: 'patientId' in row ? row.patientId : row.id,
  };
  if (await SERVE_DECISIONS[type](ctx, row)) {
    ctx.audit.read(subject, ctx.sourceOf(type, row.id));
    return row;
  }
  ctx.audit.denied(subject);
  return standIns.get(type);
}

/**
 * A refused field. It rejects rather than throws, so that graphql-js resolves every field
 * asked for and each carries its own FORBIDDEN, as a rule's refusal does; a synchronous throw
 * in a non-null field would stop its siblings unresolved.
 */
function refuse(): Promise<never> {
  return Promise.reject(new ForbiddenError());
}

/** One frozen stand-in per type: every field of it answers FORBIDDEN when resolved. */
function refusedStandIn(fields: ReadonlyArray<string>): object {
  const standIn: Record<string | symbol, unknown> = { [REFUSED]: true };
  for (const name of fields) standIn[name] = refuse;
  return Object.freeze(standIn);
}

function isRefused(parent: unknown): boolean {
  return typeof parent === 'object' && parent !== null && REFUSED in parent;
}

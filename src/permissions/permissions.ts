import type { GraphQLSchema } from 'graphql';
import {
  applyMiddleware,
  type IMiddlewareFieldMap,
  type IMiddlewareTypeMap,
} from 'graphql-middleware';
import { allow, shield, type IRules } from 'graphql-shield';
import { ForbiddenError } from '../errors.js';
import type { RequestContext } from '../graphql/context.js';
import type { CachePolicyMap } from '../policy/cachePolicy.js';
import { checkAccessCoverage, AccessCoverageError } from './accessCoverage.js';
import { recordRefusal } from './auditRefusal.js';
import { guardEntities } from './entityGuard.js';
import {
  canAddMedicalRecord,
  canQueryClinicalEntry,
  canQueryPatient,
  canReadChart,
  canReadDemographics,
  canSetConsent,
  canUpdatePatient,
  canUpdateStudyReport,
  hasRole,
} from './rules.js';

const isAdmin = hasRole('admin');
const isAuditor = hasRole('auditor');
const isFrontdesk = hasRole('frontdesk');

/**
 * The shield rules, at the grain decisions are made: root fields, the fields of a patient
 * (whose roles differ by field), and nothing else. Every other field is covered by a decision
 * made once per entity when it is served (entityGuard.ts), or is reference data that every
 * signed-in caller reads; accessCoverage.ts proves that at start-up and refuses to start
 * otherwise, so deny by default still holds: a field nothing covers is an error, not an
 * opening.
 */
export const RULES = {
  Query: {
    patient: canQueryPatient,
    patients: hasRole('clinician', 'frontdesk', 'patient'),
    medicalRecord: canQueryClinicalEntry('MedicalRecord'),
    study: canQueryClinicalEntry('Study'),
    auditEvents: isAuditor,
    auditEventsPage: isAuditor,
    cacheStats: isAdmin,
  },
  Mutation: {
    updatePatient: canUpdatePatient,
    addMedicalRecord: canAddMedicalRecord,
    updateStudyReport: canUpdateStudyReport,
    setConsent: canSetConsent,
    addCareTeamMember: isFrontdesk,
    removeCareTeamMember: isFrontdesk,
    updateDoctor: isAdmin,
    purgeCache: isAdmin,
  },
  // Reached through cacheStats only; ruled again so that the coverage proof holds for them too.
  CacheStats: { hitRates: isAdmin, hotSet: isAdmin, lastWarm: isAdmin },
  WarmRun: { entries: isAdmin },
  // Reached through auditEventsPage only, ruled again likewise. The scalars (cursors, PageInfo)
  // are covered by the fields that reach them, and need no promise of their own per edge.
  AuditEventConnection: { edges: isAuditor, pageInfo: isAuditor, totalCount: isAuditor },
  AuditEventEdge: { node: isAuditor },
  Patient: {
    mrn: canReadDemographics,
    name: canReadDemographics,
    birthDate: canReadDemographics,
    sex: canReadDemographics,
    phone: canReadDemographics,
    primaryDoctor: canReadChart,
    careTeam: canReadChart,
    records: canReadChart,
    studies: canReadChart,
  },
} as const satisfies IRules;

/**
 * Applies access control to an executable schema: the entity guard on every field that
 * serves a PHI entity, then graphql-shield on exactly the fields that carry a rule.
 *
 * @throws AccessCoverageError when some field is covered by no rule and no entity decision.
 */
export function applyPermissions(schema: GraphQLSchema, policies: CachePolicyMap): GraphQLSchema {
  const problems = checkAccessCoverage(schema, RULES, policies);
  if (problems.length > 0) throw new AccessCoverageError(problems);
  const guarded = new Set(
    [...policies.values()].filter((t) => t.policy?.cacheClass === 'phi').map((t) => t.typeName),
  );
  guardEntities(schema, guarded);
  const generated = shield(RULES, {
    // Never reached: only fields with a rule get shield's middleware (below).
    fallbackRule: allow,
    // Errors thrown by resolvers keep their own codes; rule denials become FORBIDDEN.
    allowExternalErrors: true,
    fallbackError: (_error, parent, args, ctx, info) => {
      // Shield types the context as its own; it is the one Apollo built for the operation.
      recordRefusal(
        ctx as unknown as RequestContext,
        parent,
        args as Record<string, unknown>,
        info,
      );
      return new ForbiddenError();
    },
    debug: false,
  }).generate(schema) as IMiddlewareTypeMap;
  // shield wraps every field of the schema, each in a Promise; only those with a rule need it.
  const ruled: IMiddlewareTypeMap = {};
  for (const [typeName, fields] of Object.entries(RULES)) {
    const middleware = generated[typeName] as IMiddlewareFieldMap;
    ruled[typeName] = Object.fromEntries(
      Object.keys(fields).map((field) => [field, middleware[field]]),
    ) as IMiddlewareFieldMap;
  }
  return applyMiddleware(schema, ruled);
}

import type { ApolloServerPlugin } from '@apollo/server';
import { getNamedType, type GraphQLResolveInfo } from 'graphql';
import type { CacheSource } from '../../audit/auditTrail.js';
import { AuditUnavailableError, ErrorCode } from '../../errors.js';
import type { RequestContext } from '../../graphql/context.js';
import { describeError, type Logger } from '../../logger.js';
import type { Counter } from 'prom-client';
import type { CachePolicyMap } from '../../policy/cachePolicy.js';

/**
 * Audits every PHI access of a request, allowed or denied, whichever layer served it, and
 * commits the events before the response leaves. If they cannot be written, the response
 * carries no data, only AUDIT_UNAVAILABLE: PHI is never served unaudited.
 */
export function auditPlugin(deps: {
  logger: Logger;
  auditEvents: Counter;
  policies: CachePolicyMap;
}): ApolloServerPlugin<RequestContext> {
  // The types whose entities are audited are the ones the schema marks @phi.
  const phiTypes: ReadonlySet<string> = new Set(
    [...deps.policies.values()]
      .filter((t) => t.policy?.cacheClass === 'phi')
      .map((t) => t.typeName),
  );
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ contextValue, operationName }) {
          contextValue.audit.setOperationName(operationName ?? null);
          return Promise.resolve();
        },
        executionDidStart() {
          return Promise.resolve({
            willResolveField({ source, args, contextValue, info }) {
              return (error: Error | null, result: unknown) => {
                const failure = error ?? (result instanceof Error ? result : undefined);
                recordField(contextValue, info, source, args, failure, phiTypes);
              };
            },
          });
        },
        async willSendResponse({ response, contextValue }) {
          if (!('audit' in (contextValue as object))) return;
          try {
            deps.auditEvents.inc(await contextValue.audit.flush());
          } catch (error) {
            deps.logger.error(
              { err: describeError(error) },
              'audit events could not be written; response withheld',
            );
            response.http.status = 503;
            response.http.headers.set('cache-control', 'no-store');
            if (response.body.kind === 'single') {
              response.body.singleResult = { errors: [new AuditUnavailableError().toJSON()] };
            }
          }
        },
      });
    },
  };
}

function recordField(
  ctx: RequestContext,
  info: GraphQLResolveInfo,
  source: unknown,
  args: Record<string, unknown>,
  failure: Error | undefined,
  phiTypes: ReadonlySet<string>,
): void {
  const denied =
    (failure as { extensions?: { code?: unknown } } | undefined)?.extensions?.code ===
    ErrorCode.Forbidden;
  const parent = info.parentType.name;
  if (phiTypes.has(parent) && typeof source === 'object' && source !== null) {
    const row = source as { id: string; patientId?: string };
    const subject = {
      resourceType: parent,
      resourceId: row.id,
      patientId: row.patientId ?? row.id,
    };
    if (denied) ctx.audit.denied(subject);
    else if (failure === undefined) ctx.audit.read(subject, ctx.sourceOf(parent, row.id));
    return;
  }
  // A root field refused before anything was loaded: audit what it named.
  if (denied && (parent === 'Query' || parent === 'Mutation')) {
    const input = args.input as { patientId?: unknown } | undefined;
    const named = [args.id, args.patientId, input?.patientId].find(
      (v): v is string => typeof v === 'string',
    );
    const resourceType = getNamedType(info.returnType).name;
    ctx.audit.denied({
      resourceType,
      resourceId: named ?? null,
      patientId:
        resourceType === 'Patient' || args.patientId !== undefined || input?.patientId !== undefined
          ? (named ?? null)
          : null,
    });
  }
}

export type { CacheSource };

import type { ApolloServerPlugin } from '@apollo/server';
import { getNamedType, type GraphQLResolveInfo } from 'graphql';
import type { CacheSource } from '../../audit/auditTrail.js';
import { ErrorCode } from '../../errors.js';
import type { RequestContext } from '../../graphql/context.js';
import type { CachePolicyMap } from '../../policy/cachePolicy.js';

/**
 * Records every PHI access of an operation, allowed or denied, whichever layer served it, in
 * the operation's audit trail. The HTTP layer commits the trail before the response leaves
 * (see graphqlHandler.ts), and withholds the response when it cannot.
 */
export function auditPlugin(deps: {
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

import type { ApolloServerPlugin, GraphQLResponse } from '@apollo/server';
import { OperationTypeNode, type GraphQLError, type GraphQLResolveInfo } from 'graphql';
import { settleWrites, type RequestContext } from '../../graphql/context.js';
import type { TrustedOperation } from '../../persisted/trustedDocuments.js';
import type { CachePolicyMap } from '../../policy/cachePolicy.js';
import { headersOf, httpCachePolicyOf, recordField, type ResolvedPolicy } from './headers.js';

/**
 * Sets `Cache-Control` (and `Pragma`) from the fields a response actually resolved, read from
 * `@phi` / `@reference` as Apollo's cacheControl plugin reads `@cacheControl`. A manifest
 * operation uses the policy computed for it at start-up instead, and tracks no field. It also
 * holds the response until the request's L2 writes have settled, so that the next request, on
 * any instance, finds them.
 */
export function cacheControlPlugin(
  policies: CachePolicyMap,
  trusted: ReadonlyMap<string, TrustedOperation>,
): ApolloServerPlugin<RequestContext> {
  return {
    requestDidStart() {
      const resolved: ResolvedPolicy = { phi: false, minMaxAgeSeconds: Infinity, uncovered: false };
      let precomputed: ResolvedPolicy | undefined;
      return Promise.resolve({
        executionDidStart({ queryHash, schema }) {
          precomputed = trusted.get(queryHash)?.policy;
          if (precomputed !== undefined) return Promise.resolve({});
          const roots = new Set([schema.getQueryType(), schema.getMutationType()]);
          return Promise.resolve({
            willResolveField({ info }: { info: GraphQLResolveInfo }) {
              const parent = info.parentType;
              recordField(resolved, policies, parent.name, info.fieldName, roots.has(parent));
            },
          });
        },
        async willSendResponse({ response, contextValue, operation, errors }) {
          if ('pendingWrites' in (contextValue as object)) {
            await settleWrites(contextValue);
            addWarnings(response.body, contextValue.warnings);
          }
          const mutation =
            operation !== undefined && operation.operation !== OperationTypeNode.QUERY;
          const failed = errors !== undefined && errors.length > 0;
          const policy = httpCachePolicyOf(
            precomputed !== undefined && !failed ? precomputed : resolved,
            { mutation, failed },
          );
          // Apollo hands plugins a shallow copy of the context: the outcome object is shared.
          contextValue.outcome.cachePolicy = policy;
          for (const [name, value] of headersOf(policy)) response.http.headers.set(name, value);
        },
      });
    },
  };
}

function addWarnings(body: GraphQLResponse['body'], warnings: ReadonlyArray<GraphQLError>): void {
  if (warnings.length === 0 || body.kind !== 'single') return;
  const result = body.singleResult;
  result.errors = [...(result.errors ?? []), ...warnings.map((warning) => warning.toJSON())];
}

import type { ApolloServerPlugin, GraphQLResponse } from '@apollo/server';
import {
  OperationTypeNode,
  isObjectType,
  type GraphQLError,
  type GraphQLResolveInfo,
} from 'graphql';
import { settleWrites, type RequestContext } from '../../graphql/context.js';
import { PHI_MAX_AGE_CAP_SECONDS, type CachePolicyMap } from '../../policy/cachePolicy.js';
import { cacheControlHeaders, type ResolvedPolicy } from './headers.js';

/**
 * Sets `Cache-Control` (and `Pragma`) from the fields a response actually resolved, read from
 * `@phi` / `@reference` as Apollo's cacheControl plugin reads `@cacheControl`. It also holds
 * the response until the request's L2 writes have settled, so that the next request, on any
 * instance, finds them.
 */
export function cacheControlPlugin(policies: CachePolicyMap): ApolloServerPlugin<RequestContext> {
  return {
    requestDidStart() {
      const resolved: ResolvedPolicy = { phi: false, minMaxAgeSeconds: Infinity, uncovered: false };
      return Promise.resolve({
        executionDidStart() {
          return Promise.resolve({
            willResolveField({ info }: { info: GraphQLResolveInfo }) {
              record(resolved, policies, info);
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
          for (const [name, value] of cacheControlHeaders(resolved, { mutation, failed })) {
            response.http.headers.set(name, value);
          }
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

function record(
  resolved: ResolvedPolicy,
  policies: CachePolicyMap,
  info: GraphQLResolveInfo,
): void {
  const parent = info.parentType;
  // Root fields carry no data of their own; the fields of what they return do.
  if (parent === info.schema.getQueryType() || parent === info.schema.getMutationType()) return;
  if (info.fieldName.startsWith('__') || !isObjectType(parent)) return;
  const policy = policies.get(parent.name)?.fields.get(info.fieldName);
  if (policy === undefined) {
    resolved.uncovered = true;
    return;
  }
  if (policy.cacheClass === 'phi') resolved.phi = true;
  const maxAge =
    policy.cacheClass === 'phi'
      ? Math.min(policy.maxAgeSeconds, PHI_MAX_AGE_CAP_SECONDS)
      : policy.maxAgeSeconds;
  resolved.minMaxAgeSeconds = Math.min(resolved.minMaxAgeSeconds, maxAge);
}

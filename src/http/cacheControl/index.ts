import type { ApolloServerPlugin, GraphQLResponse } from '@apollo/server';
import { OperationTypeNode, type DocumentNode, type GraphQLError } from 'graphql';
import { settleWrites, type RequestContext } from '../../graphql/context.js';
import type { TrustedOperation } from '../../persisted/trustedDocuments.js';
import type { CachePolicyMap } from '../../policy/cachePolicy.js';
import { resolvedPolicyOf } from './documentPolicy.js';
import { headersOf, httpCachePolicyOf, type ResolvedPolicy } from './headers.js';

/**
 * Sets `Cache-Control` (and `Pragma`) from `@phi` / `@reference` on the fields a document
 * selects, read as Apollo's cacheControl plugin reads `@cacheControl`. The policy is computed
 * once per document (Apollo's document store hands back the same parsed document for the same
 * text), and once at start-up for a manifest operation; no field is tracked while executing.
 * It also holds the response until the request's L2 writes have settled, so that the next
 * request, on any instance, finds them.
 */
export function cacheControlPlugin(
  policies: CachePolicyMap,
  trusted: ReadonlyMap<string, TrustedOperation>,
): ApolloServerPlugin<RequestContext> {
  const byDocument = new WeakMap<DocumentNode, ResolvedPolicy>();
  return {
    requestDidStart() {
      let resolved: ResolvedPolicy | undefined;
      return Promise.resolve({
        didResolveOperation({ queryHash, document, schema }) {
          resolved = trusted.get(queryHash)?.policy ?? byDocument.get(document);
          if (resolved === undefined) {
            resolved = resolvedPolicyOf(schema, document, policies);
            byDocument.set(document, resolved);
          }
          return Promise.resolve();
        },
        async willSendResponse({ response, contextValue, operation, errors }) {
          if ('pendingWrites' in (contextValue as object)) {
            await settleWrites(contextValue);
            addWarnings(response.body, contextValue.warnings);
          }
          const mutation =
            operation !== undefined && operation.operation !== OperationTypeNode.QUERY;
          const failed = errors !== undefined && errors.length > 0;
          // A request that never resolved an operation (a parse error, say) selected nothing.
          const policy = httpCachePolicyOf(
            resolved ?? { phi: false, minMaxAgeSeconds: Infinity, uncovered: true },
            { mutation, failed },
          );
          // Apollo hands plugins a shallow copy of the context: the outcome object is shared.
          if ('outcome' in (contextValue as object)) {
            contextValue.outcome.cachePolicy = policy;
            // Anything but a query may have written: the handler never runs it a second time.
            contextValue.outcome.query = operation?.operation === OperationTypeNode.QUERY;
          }
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

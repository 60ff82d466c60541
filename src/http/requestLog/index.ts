import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestContext } from '../../graphql/context.js';
import type { TrustedOperation } from '../../persisted/trustedDocuments.js';
import { errorCodeOf, operationNameOf } from './labels.js';

/**
 * Notes what the request log line says of each operation, in its context's `outcome`: its
 * name, how its text arrived (as text, a manifest id, an automatic persisted query or its
 * registration) and the codes of the errors its response carries. Codes are read from the
 * formatted response, so an uncoded failure counts as INTERNAL_SERVER_ERROR, as the client saw
 * it; no message is kept.
 */
export function requestLogPlugin(
  trusted: ReadonlyMap<string, TrustedOperation>,
): ApolloServerPlugin<RequestContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        willSendResponse({ contextValue, request, response, operationName, queryHash, metrics }) {
          // Apollo hands plugins a shallow copy of the context: the outcome object is shared.
          if (!('outcome' in (contextValue as object))) return Promise.resolve();
          const { outcome } = contextValue;
          outcome.operationName = operationNameOf(operationName ?? request.operationName);
          outcome.persisted =
            request.extensions?.persistedQuery === undefined
              ? 'text'
              : trusted.has(queryHash)
                ? 'manifest'
                : metrics.persistedQueryRegister === true
                  ? 'apqRegister'
                  : 'apq';
          const errors = response.body.kind === 'single' ? response.body.singleResult.errors : [];
          outcome.errorCodes = (errors ?? []).flatMap((error) => {
            const code = errorCodeOf(error.extensions?.code);
            return code === undefined ? [] : [code];
          });
          return Promise.resolve();
        },
      });
    },
  };
}

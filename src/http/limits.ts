import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import { checkRequestLimits, type RequestLimits } from './requestLimits.js';

/**
 * Checks the limits once more on the document Apollo resolved, with the request's variables:
 * an automatic persisted query sent by hash alone reaches no text check before, and its
 * variables may differ from the ones it was registered with.
 */
export function limitsPlugin(schema: GraphQLSchema, limits: RequestLimits): ApolloServerPlugin {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ document, request }) {
          // Text sent with the request was measured before validation, with these variables.
          if (typeof request.query === 'string') return Promise.resolve();
          const violation = checkRequestLimits(schema, document, limits, request.variables);
          if (violation !== undefined) {
            throw new GraphQLError(violation.message, {
              extensions: { code: violation.code, http: { status: 400 } },
            });
          }
          return Promise.resolve();
        },
      });
    },
  };
}

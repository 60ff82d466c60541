import type { ApolloServerPlugin } from '@apollo/server';
import type { RequestContext } from '../../graphql/context.js';

/**
 * Names the operation in its audit trail. The events themselves are recorded where entities
 * are served and refused (permissions/entityGuard.ts and auditRefusal.ts), once per entity,
 * not per field; the HTTP layer commits them before the response leaves (graphqlHandler.ts).
 */
export function auditPlugin(): ApolloServerPlugin<RequestContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        didResolveOperation({ contextValue, operationName }) {
          contextValue.audit.setOperationName(operationName ?? null);
          return Promise.resolve();
        },
      });
    },
  };
}

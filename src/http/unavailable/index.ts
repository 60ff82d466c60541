import type { ApolloServerPlugin } from '@apollo/server';
import { isDatabaseUnavailable } from '../../db/databaseErrors.js';
import type { RequestContext } from '../../graphql/context.js';

/**
 * Answers 503 when an operation failed because Postgres could not be reached, so that clients
 * and load balancers retry rather than treat it as a bug. `formatError` gives each such error
 * the code DATABASE_UNAVAILABLE.
 */
export function databaseUnavailablePlugin(): ApolloServerPlugin<RequestContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        willSendResponse({ errors, response }) {
          if (errors?.some((error) => isDatabaseUnavailable(error.originalError))) {
            response.http.status = 503;
          }
          return Promise.resolve();
        },
      });
    },
  };
}

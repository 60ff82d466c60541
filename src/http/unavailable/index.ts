import type { ApolloServerPlugin } from '@apollo/server';
import { isDatabaseUnavailable } from '../../db/databaseErrors.js';
import { AuditRowError } from '../../db/mutations/insertAuditRow.js';
import type { RequestContext } from '../../graphql/context.js';

/** True for a failure that is the service's, not the request's: retry later. */
export function isUnavailable(error: unknown): boolean {
  return isDatabaseUnavailable(error) || error instanceof AuditRowError;
}

/**
 * Answers 503 when an operation failed because Postgres could not be reached or a write's
 * audit row could not be inserted, so that clients and load balancers retry rather than treat
 * it as a bug. `formatError` gives each such error its code (DATABASE_UNAVAILABLE,
 * AUDIT_UNAVAILABLE).
 */
export function unavailablePlugin(): ApolloServerPlugin<RequestContext> {
  return {
    requestDidStart() {
      return Promise.resolve({
        willSendResponse({ errors, response }) {
          if (errors?.some((error) => isUnavailable(error.originalError))) {
            response.http.status = 503;
          }
          return Promise.resolve();
        },
      });
    },
  };
}

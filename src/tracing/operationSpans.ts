import type { ApolloServer, ApolloServerPlugin, BaseContext } from '@apollo/server';
import { trace, type Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import type { Tracing } from './createTracing.js';

type Executor<C extends BaseContext> = Pick<ApolloServer<C>, 'executeHTTPGraphQLRequest'>;

// Incubating in the semantic conventions, so spelt here rather than imported (as they advise).
const ATTR_GRAPHQL_OPERATION_NAME = 'graphql.operation.name';
const ATTR_GRAPHQL_OPERATION_TYPE = 'graphql.operation.type';
const ATTR_ERROR_CODES = 'caregraph.graphql.error_codes';
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

/**
 * Apollo with one span per operation it executes: each operation of a batch, and a query's
 * second run after a superseded L2 read, gets its own, under the request's span. What the
 * operation reads (L2, SQL) nests under it.
 */
export function traceOperations<C extends BaseContext>(
  apollo: Executor<C>,
  tracing: Tracing,
): Executor<C> {
  if (!tracing.enabled) return apollo;
  const { tracer } = tracing;
  return {
    executeHTTPGraphQLRequest: (request) =>
      tracer.startActiveSpan('graphql.operation', async (span) => {
        try {
          return await apollo.executeHTTPGraphQLRequest(request);
        } finally {
          span.end();
        }
      }),
  };
}

/**
 * Names the active operation span once Apollo has resolved the operation, and lists the codes
 * of the errors it met. Never the document, the variables or an error message. The operation's
 * name is recorded for manifest operations only (`query MobileChart`): any other document's
 * name is the client's own text, which may hold anything, so its span says `query` alone.
 *
 * @param trusted the persisted-query manifest, by SHA-256 of the document
 */
export function operationSpanPlugin(
  trusted: ReadonlyMap<string, { readonly name: string }>,
): ApolloServerPlugin {
  return {
    requestDidStart() {
      const span = trace.getActiveSpan();
      if (span === undefined || !span.isRecording()) return Promise.resolve();
      return Promise.resolve({
        didResolveOperation({ operation, operationName, queryHash }) {
          const name = trusted.get(queryHash)?.name;
          if (operation !== undefined) {
            nameOperation(span, operation.operation, name === operationName ? name : undefined);
          }
          return Promise.resolve();
        },
        didEncounterErrors({ errors }) {
          const codes = [
            ...new Set(
              errors.map((error) => {
                const code = error.extensions.code;
                return typeof code === 'string' && ERROR_CODE.test(code)
                  ? code
                  : 'INTERNAL_SERVER_ERROR';
              }),
            ),
          ];
          span.setAttribute(ATTR_ERROR_CODES, codes);
          if (codes[0] !== undefined) span.setAttribute(ATTR_ERROR_TYPE, codes[0]);
          return Promise.resolve();
        },
      });
    },
  };
}

function nameOperation(span: Span, type: string, name: string | undefined): void {
  span.setAttribute(ATTR_GRAPHQL_OPERATION_TYPE, type);
  if (name === undefined) {
    span.updateName(type);
    return;
  }
  span.setAttribute(ATTR_GRAPHQL_OPERATION_NAME, name);
  span.updateName(`${type} ${name}`);
}

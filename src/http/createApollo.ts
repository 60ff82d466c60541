import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import type { DocumentStore } from './documentStore.js';
import type { RequestContext } from '../graphql/context.js';
import { createApqCache } from '../persisted/apqCache.js';
import { operationSpanPlugin } from '../tracing/operationSpans.js';
import type { Tracing } from '../tracing/createTracing.js';
import { createApolloLogger } from './apolloLogger.js';
import { auditPlugin } from './audit/index.js';
import { cacheControlPlugin } from './cacheControl/index.js';
import { createFormatError } from './formatError.js';
import { limitsPlugin } from './limits.js';
import { requestLogPlugin } from './requestLog/index.js';
import type { ServerDeps } from './server.js';
import { textInputPlugin } from './textInput/index.js';
import { unavailablePlugin } from './unavailable/index.js';

/**
 * The Apollo Server behind `/graphql`, with caregraph's plugins in their order: Cache-Control
 * from @phi/@reference, the limits, text checks, outage answers, the request log's view of each
 * operation, the audit trail, and spans when tracing is on. Call `start()` on it.
 */
export function createApollo(
  deps: ServerDeps,
  documents: DocumentStore,
  tracing: Tracing,
): ApolloServer<RequestContext> {
  const responseCache = deps.variant?.responseCache;
  return new ApolloServer<RequestContext>({
    schema: deps.schema,
    // Manifest operations are parsed and validated once, here, so persisted requests skip both.
    documentStore: documents,
    // Automatic persisted queries live in L2, so every instance knows every registration.
    // Manifest ids resolve through the same cache, to the manifest's bodies, without registering.
    persistedQueries: {
      cache: createApqCache(deps.l2, deps.persistedQueries.apqTtlSeconds, deps.trusted),
    },
    // Batches are split by the route handler, which runs each operation with a context of its
    // own and answers the batch whole (graphqlHandler.ts); Apollo sees single operations only.
    allowBatchedHttpRequests: false,
    introspection: deps.introspection,
    includeStacktraceInErrorResponses: false,
    formatError: createFormatError(deps.logger),
    logger: createApolloLogger(deps.logger),
    // Bearer tokens travel in the Authorization header, which no browser sends cross-site
    // without a preflight, so its presence is as good as Apollo's own preflight headers.
    csrfPrevention: {
      requestHeaders: ['authorization', 'x-apollo-operation-name', 'apollo-require-preflight'],
    },
    // main.ts owns shutdown: Apollo's own handler would re-raise the signal and kill the
    // process before the database pool is closed.
    stopOnTerminationSignals: false,
    plugins: [
      ...(responseCache === undefined
        ? [
            // caregraph computes Cache-Control from @phi/@reference, not from @cacheControl.
            ApolloServerPluginCacheControlDisabled(),
            cacheControlPlugin(deps.policies, deps.trusted),
          ]
        : [ApolloServerPluginCacheControl(), ...responseCache]),
      limitsPlugin(deps.schema, deps.limits),
      textInputPlugin(),
      unavailablePlugin(),
      requestLogPlugin(deps.trusted),
      ...(deps.variant?.audit === false ? [] : [auditPlugin()]),
      // Apollo's landing page loads Sandbox from a CDN, with telemetry; the explorer replaces it.
      ApolloServerPluginLandingPageDisabled(),
      ...(tracing.enabled ? [operationSpanPlugin(deps.trusted)] : []),
    ],
  });
}

import type { FastifyInstance } from 'fastify';
import { createL2 } from './cache/createL2.js';
import { deriveEntryPolicies } from './cache/entryPolicies.js';
import {
  startInvalidationFeed,
  type InvalidationFeed,
  type InvalidationFeedOptions,
} from './cache/invalidationFeed.js';
import type { L2Cache } from './cache/l2Cache.js';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/client.js';
import { createSchema, type ExecutableSchema } from './graphql/createSchema.js';
import { loadTypeDefs } from './graphql/loadTypeDefs.js';
import type { Metrics } from './http/metrics.js';
import { createServer, type ServerVariant } from './http/server.js';
import { createMetricsListener, type MetricsListener } from './http/metricsEndpoint.js';
import type { Sealer } from './cache/sealer.js';
import type { CacheStore } from './cache/store.js';
import { loadTrustedDocuments } from './persisted/trustedDocuments.js';
import type { Logger } from './logger.js';
import type { StartupSteps } from './startup/startupSteps.js';
import { startWarmer, type Warmer } from './warming/warmer.js';
import { createWarmMetrics } from './warming/warmMetrics.js';
import { collectCacheStats } from './warming/cacheStats.js';
import type { Tracing } from './tracing/createTracing.js';

export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: DatabaseHandle;
  readonly metrics: Metrics;
  /** What /metrics answers; this process's registry when omitted (see ServerDeps). */
  readonly scrapeMetrics?: () => Promise<string>;
  /**
   * The schema `main.ts` built and checked before it opened the database; built here from
   * `schema/` (or the variant's SDL) when omitted.
   */
  readonly schema?: ExecutableSchema & { readonly typeDefs: string };
  /** Logs the durations of L2's connect, the feed and the server's build, when given. */
  readonly steps?: StartupSteps;
  /** Spans for requests, L2 and the audit commit; off when omitted (see createTracing). */
  readonly tracing?: Tracing;
}

/**
 * Departures from the production wiring, for the benchmark's baselines only; `main.ts` never
 * passes one.
 */
export interface AppVariant extends ServerVariant {
  /** SDL other than `schema/` (the peer's, with `@cacheControl` beside `@phi`). */
  readonly typeDefs?: string;
  /** An L2 store other than the configured one (one that keeps nothing, for L1 only). */
  readonly store?: CacheStore;
  /** Plaintext instead of AES-GCM: the sealing on/off pair. */
  readonly sealer?: Sealer;
  /** The invalidation feed's timings, other than production's (tests on a loaded machine). */
  readonly feed?: InvalidationFeedOptions;
}

export interface App {
  readonly server: FastifyInstance;
  readonly l2: L2Cache;
  /** Invalidations heard through Postgres; undefined on the embedded database. */
  readonly feed: InvalidationFeed | undefined;
  /** The warmer; undefined when CACHE_WARM=off or the store keeps no hot sets. */
  readonly warmer: Warmer | undefined;
  /**
   * The listener of /metrics when METRICS_PORT is set (the server does not answer /metrics
   * then), for the caller to start with the server; closing the server closes it.
   */
  readonly metricsListener: MetricsListener | undefined;
}

/**
 * Wires the schema, its cache policy, L2 and the HTTP server over an open database. `main.ts`
 * and the tests both build the service through here, so tests exercise the production wiring.
 * Closing the server closes L2.
 *
 * @throws CachePolicyError when the schema's directives break a cache rule.
 */
export async function createApp(deps: AppDeps, variant: AppVariant = {}): Promise<App> {
  const { config, logger, database, metrics } = deps;
  const typeDefs = deps.schema?.typeDefs ?? variant.typeDefs ?? loadTypeDefs();
  const { schema, policies } = deps.schema ?? createSchema(typeDefs);
  const time = <T>(step: 'l2' | 'feed', work: () => Promise<T>): Promise<T> =>
    deps.steps === undefined ? work() : deps.steps.time(step, work);
  const trusted = loadTrustedDocuments(config.persistedQueries.manifestPath, schema, policies);
  const l2 = createL2({
    config,
    typeDefs,
    registry: metrics.registry,
    logger,
    store: variant.store,
    sealer: variant.sealer,
    tracing: deps.tracing,
  });
  // Redis connected before the first request, which would otherwise wait for it inside its
  // command timeout; a Redis that is down now is a degraded start, not a failed one.
  await time('l2', () => l2.store.connect());
  // Before the server exists: an instance knows every recent write before it serves a read.
  const feed = await time('feed', () =>
    startInvalidationFeed({ database, l2, logger, options: variant.feed }),
  );
  // L2 is served from only while the feed proves this process hears every write (SPEC §2.8).
  if (feed !== undefined) l2.useFreshness(() => feed.fresh);
  const entryPolicies = deriveEntryPolicies(policies);
  const warmMetrics = createWarmMetrics(metrics.registry);
  // The warmer starts once the server exists; the query reads whichever there is by then.
  const started: { warmer?: Warmer } = {};
  const serverStartedAt = performance.now();
  const server = await createServerOrClose({
    cacheStats: (tenantId) => collectCacheStats(l2, started.warmer, tenantId),
    schema,
    policies,
    entryPolicies,
    l2,
    db: database.db,
    database,
    jwt: config.jwt,
    logger,
    metrics,
    scrapeMetrics: deps.scrapeMetrics,
    serveMetrics: config.metricsPort === undefined,
    tracing: deps.tracing,
    introspection: config.introspection,
    maxBodyBytes: config.maxBodyBytes,
    requestTimeoutMs: config.requestTimeoutMs,
    maxQueryLength: config.maxQueryLength,
    trusted,
    persistedQueries: config.persistedQueries,
    limits: config.limits,
    explorer: config.explorer,
    corsOrigins: config.corsOrigins,
    variant,
    checkReadiness: async () => {
      await database.ping();
      // Postgres is required; L2 is not: without it the service is degraded, still serving.
      const cache = (await l2.store.ping()) ? 'up' : 'degraded';
      // Without the feed, writes of other instances reach this one through Redis alone.
      const invalidations = feed === undefined || feed.up ? 'up' : 'degraded';
      return { database: 'up', cache, invalidations };
    },
  });
  deps.steps?.record('server', performance.now() - serverStartedAt);
  async function createServerOrClose(serverDeps: Parameters<typeof createServer>[0]) {
    try {
      return await createServer(serverDeps);
    } catch (error) {
      await feed?.close();
      await l2.close();
      throw error;
    }
  }
  const warmer =
    config.warming.enabled && l2.store.warming !== undefined
      ? startWarmer({
          config: config.warming,
          database,
          l2,
          entryPolicies,
          logger,
          metrics: warmMetrics,
        })
      : undefined;
  started.warmer = warmer;
  const metricsListener =
    config.metricsPort === undefined
      ? undefined
      : createMetricsListener({
          registry: metrics.registry,
          scrapeMetrics: deps.scrapeMetrics,
          logger,
          host: config.host,
          port: config.metricsPort,
        });
  // After the server's own drain: scrapes are answered while requests finish.
  server.addHook('onClose', async () => {
    await metricsListener?.close();
    await warmer?.close();
    await feed?.close();
    await l2.close();
  });
  return { server, l2, feed, warmer, metricsListener };
}

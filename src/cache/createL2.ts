import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { describeError } from '../logger.js';
import { schemaVersionOf } from './cacheKey.js';
import { createCacheMetrics } from './cacheMetrics.js';
import { createGuardedStore } from './guardedStore.js';
import { createL2Cache, type L2Cache } from './l2Cache.js';
import { createMemoryStore } from './memoryStore.js';
import { createRedisClusterStore, createRedisStore } from './redisStore.js';
import { createSealer, deriveSearchKey, type Sealer } from './sealer.js';
import type { CacheStore } from './store.js';
import { noteRoundTripNodes, traceStore } from '../tracing/storeSpans.js';
import { NO_TRACING, type Tracing } from '../tracing/createTracing.js';
import { PHI_HOT_TYPES, REFERENCE_HOT_TYPES } from '../warming/hotSet.js';
import { createUsageTracker } from '../warming/usageTracker.js';

/**
 * Builds L2 from the configuration: a Redis Cluster when REDIS_CLUSTER_NODES is set, Redis when
 * REDIS_URL is, the bounded in-process store
 * otherwise; sealed, guarded by a timeout and a breaker, and keyed under a version of the SDL.
 */
export function createL2(deps: {
  readonly config: Config;
  readonly typeDefs: string;
  readonly registry: Registry;
  readonly logger: Logger;
  /** A store other than the configured one: the benchmark's baselines, never production wiring. */
  readonly store?: CacheStore;
  /** A sealer other than AES-GCM under the configured keys: the benchmark's plaintext pair. */
  readonly sealer?: Sealer;
  /** A span for every round trip of a traced request, when tracing is on. */
  readonly tracing?: Tracing;
}): L2Cache {
  const { config, logger } = deps;
  const tracing = deps.tracing ?? NO_TRACING;
  const metrics = createCacheMetrics(deps.registry);
  let lastLogged = 0;
  // Store errors are counted by the guard; the log gets at most one line a second of them.
  const onError = (error: unknown) => {
    if (Date.now() - lastLogged < 1000) return;
    lastLogged = Date.now();
    logger.warn({ err: describeError(error) }, 'L2 store error');
  };
  const store =
    deps.store ??
    (config.redisClusterNodes !== undefined
      ? createRedisClusterStore({
          nodes: config.redisClusterNodes,
          onError,
          onRoundTrips: (nodes) => {
            metrics.l2NodeRoundTrips.inc(nodes);
            if (tracing.enabled) noteRoundTripNodes(nodes);
          },
        })
      : config.redisUrl === undefined
        ? createMemoryStore({ maxBytes: config.cache.memoryMaxBytes, onError })
        : createRedisStore({ url: config.redisUrl, onError }));
  const [firstKey] = config.cacheEncryptionKeys;
  if (firstKey === undefined) throw new Error('no cache encryption key');
  return createL2Cache({
    store: createGuardedStore(
      traceStore(store, tracing),
      {
        commandTimeoutMs: config.cache.commandTimeoutMs,
        resetTimeoutMs: config.cache.breakerResetMs,
      },
      metrics,
    ),
    sealer: deps.sealer ?? createSealer(config.cacheEncryptionKeys),
    space: {
      prefix: config.cache.keyPrefix,
      schemaVersion: schemaVersionOf(deps.typeDefs),
      searchKey: deriveSearchKey(firstKey),
    },
    metrics,
    logger,
    near: { ttlMs: config.cache.nearTtlMs, maxBytes: config.cache.nearMaxBytes },
    ...(config.warming.enabled
      ? {
          usage: createUsageTracker({
            topK: config.warming.topK,
            // What the warmer may warm: reference data of every tenant, PHI of opted-in ones.
            counts: (tenantId, type) =>
              (REFERENCE_HOT_TYPES as ReadonlyArray<string>).includes(type) ||
              (config.warming.phiTenants.has(tenantId) &&
                (PHI_HOT_TYPES as ReadonlyArray<string>).includes(type)),
          }),
        }
      : {}),
  });
}

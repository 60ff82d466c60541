import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { TallyCounter } from '../metricTally.js';
import { TallyHistogram } from '../metricTallyHistogram.js';

/**
 * The cache's Prometheus metrics. Names are a public contract (SPEC §1). The per-request ones
 * (`requests`, `l2RoundTrips`, `l2Duration`, `redisErrors`) are tallies: plain additions that
 * prom-client reads when /metrics is scraped.
 */
export interface CacheMetrics {
  readonly requests: Counter<'layer' | 'type' | 'result'>;
  /**
   * L1 lookups of one type, as plain numbers: DataLoader asks for every load, hundreds of times
   * a request, too often to hash labels each time. They join `requests` when it is read.
   */
  l1Tally(type: string): L1Tally;
  readonly l2RoundTrips: Counter<'op'>;
  /** On a Redis Cluster: the nodes each L2 round trip went to (one round trip per node). */
  readonly l2NodeRoundTrips: Counter;
  readonly l2Duration: Histogram<'op'>;
  readonly redisErrors: Counter<'op'>;
  readonly breakerState: Gauge;
  readonly unsealFailures: Counter;
  readonly epochBumps: Counter;
  /** Replacements sent for control values (the epoch, generations) found unreadable in L2. */
  readonly controlReplaced: Counter<'kind'>;
  /** Generations read from L2 that a committed invalidation had superseded; served as misses. */
  readonly supersededGenerations: Counter;
  /** Invalidations learnt through Postgres, by how: `notify`, or `catchup` after a (re)connect. */
  readonly invalidationsReceived: Counter<'source'>;
  /** Notifications on the channel that named no committed invalidation: malformed or forged. */
  readonly invalidationsRejected: Counter;
  /** 1 while this process listens for invalidations on Postgres, 0 while it does not. */
  readonly invalidationFeedUp: Gauge;
}

export interface L1Tally {
  hits: number;
  misses: number;
}

export function createCacheMetrics(registry: Registry): CacheMetrics {
  const registers = [registry];
  const tallies = new Map<string, L1Tally>();
  const requests: Counter<'layer' | 'type' | 'result'> = new TallyCounter({
    name: 'caregraph_cache_requests_total',
    help: 'Cache lookups by layer (l1, near, l2; a near hit also counts as an l2 hit), GraphQL type and result (hit, miss)',
    labelNames: ['layer', 'type', 'result'],
    registers,
    onScrape: () => {
      for (const [type, tally] of tallies) {
        if (tally.hits > 0) requests.inc({ layer: 'l1', type, result: 'hit' }, tally.hits);
        if (tally.misses > 0) requests.inc({ layer: 'l1', type, result: 'miss' }, tally.misses);
        tally.hits = 0;
        tally.misses = 0;
      }
    },
  });
  return {
    requests,
    l1Tally: (type) => {
      let tally = tallies.get(type);
      if (tally === undefined) {
        tally = { hits: 0, misses: 0 };
        tallies.set(type, tally);
      }
      return tally;
    },
    l2RoundTrips: new TallyCounter({
      name: 'caregraph_l2_round_trips_total',
      help: 'Round trips to the L2 store, by operation',
      labelNames: ['op'],
      registers,
    }),
    l2NodeRoundTrips: new Counter({
      name: 'caregraph_l2_node_round_trips_total',
      help: 'On a Redis Cluster, round trips to cluster nodes: each L2 round trip counts once per node it went to',
      registers,
    }),
    l2Duration: new TallyHistogram({
      name: 'caregraph_l2_duration_seconds',
      help: 'Time of each L2 round trip that answered, by operation',
      labelNames: ['op'],
      // L2 answers in well under a millisecond when healthy; the timeout is tens of them.
      buckets: [0.0001, 0.00025, 0.0005, 0.00075, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05],
      registers,
    }),
    redisErrors: new TallyCounter({
      name: 'caregraph_redis_errors_total',
      help: 'L2 commands that failed or timed out (calls the open breaker refused are not counted)',
      labelNames: ['op'],
      registers,
    }),
    breakerState: new Gauge({
      name: 'caregraph_cache_breaker_state',
      help: 'L2 circuit breaker: 0 closed, 1 half-open, 2 open',
      // Summed over workers (WEB_CONCURRENCY), states would read as other states: the worst wins.
      aggregator: 'max',
      registers,
    }),
    unsealFailures: new Counter({
      name: 'caregraph_cache_unseal_failures_total',
      help: 'L2 envelopes that failed to open (tampered, copied or of an unknown key); served as misses',
      registers,
    }),
    epochBumps: new Counter({
      name: 'caregraph_cache_epoch_bumps_total',
      help: 'Logical flushes of the whole L2 after an outage or a purge of everything',
      registers,
    }),
    controlReplaced: new Counter({
      name: 'caregraph_cache_control_replaced_total',
      help: 'Control values (kind: epoch or generation) that failed to open, for which a fresh one was sent',
      labelNames: ['kind'],
      registers,
    }),
    supersededGenerations: new Counter({
      name: 'caregraph_cache_superseded_generations_total',
      help: 'Generations read from L2 that a committed invalidation had superseded (its bump not landed yet, refused by Redis, or replayed); served as misses and replaced',
      registers,
    }),
    invalidationsReceived: new Counter({
      name: 'caregraph_cache_invalidations_received_total',
      help: 'Invalidations learnt through Postgres (source: notify, or catchup after a reconnect)',
      labelNames: ['source'],
      registers,
    }),
    invalidationsRejected: new Counter({
      name: 'caregraph_cache_invalidations_rejected_total',
      help: 'Notifications on the invalidation channel naming no committed invalidation (malformed or forged)',
      registers,
    }),
    invalidationFeedUp: new Gauge({
      name: 'caregraph_cache_invalidation_feed_up',
      help: '1 while this process listens for invalidations on Postgres, 0 while it does not',
      // Over workers: 0 as soon as one of them has lost the feed.
      aggregator: 'min',
      registers,
    }),
  };
}

import { Counter, Gauge, type Registry } from 'prom-client';

/** The warmer's Prometheus metrics; names are a public contract (SPEC §5). */
export interface WarmMetrics {
  /** Entries a pass wrote to L2, by type (`Patient`, `Patient.records`). */
  readonly entries: Counter<'type'>;
  /** Passes, by result: `ok`, `failed` (Postgres, or an audit that could not be written), `skipped` (L2 unusable). */
  readonly runs: Counter<'result'>;
  /** SQL statements the warmer issued: its share of Postgres, held under CACHE_WARM_MAX_QPS. */
  readonly statements: Counter;
  /** 1 while this process holds the warmer's lease. */
  readonly leaseHeld: Gauge;
}

export function createWarmMetrics(registry: Registry): WarmMetrics {
  const registers = [registry];
  return {
    entries: new Counter({
      name: 'caregraph_cache_warm_entries_total',
      help: 'L2 entries written by the warmer, by type',
      labelNames: ['type'],
      registers,
    }),
    runs: new Counter({
      name: 'caregraph_cache_warm_runs_total',
      help: 'Warming passes by result (ok, failed, skipped)',
      labelNames: ['result'],
      registers,
    }),
    statements: new Counter({
      name: 'caregraph_cache_warm_statements_total',
      help: 'SQL statements issued by the warmer',
      registers,
    }),
    leaseHeld: new Gauge({
      name: 'caregraph_cache_warm_lease_held',
      help: '1 while this process holds the warmer lease',
      registers,
    }),
  };
}

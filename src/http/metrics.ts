import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { TallyCounter } from '../metricTally.js';
import { TallyHistogram } from '../metricTallyHistogram.js';

/**
 * The service's Prometheus metrics. Names are a public contract (SPEC §1). Those updated on
 * every request are tallies, read by prom-client when /metrics is scraped.
 */
export interface Metrics {
  readonly registry: Registry;
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  readonly dbQueries: Counter<'table'>;
  readonly auditEvents: Counter;
  /** How long each request waited for its audit events to commit, group commit included. */
  readonly auditCommitDuration: Histogram;
  /** Requests whose audit events could not be committed: their responses were withheld. */
  readonly auditCommitFailures: Counter;
}

/** Creates a registry of its own, so that two servers in one process never share counters. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'caregraph_' });
  return {
    registry,
    httpRequestDuration: new TallyHistogram({
      name: 'caregraph_http_request_duration_seconds',
      help: 'HTTP request duration in seconds',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    auditEvents: new TallyCounter({
      name: 'caregraph_audit_events_total',
      help: 'Audit events committed',
      registers: [registry],
    }),
    auditCommitDuration: new TallyHistogram({
      name: 'caregraph_audit_commit_duration_seconds',
      help: 'Time from a request handing over its audit events to their commit (or failure), queueing for the group commit included',
      // A lone commit takes a millisecond or two; under load requests queue for a group, and a
      // stalled database holds them up to the request's deadline (10 s).
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    auditCommitFailures: new TallyCounter({
      name: 'caregraph_audit_commit_failures_total',
      help: 'Requests whose audit events could not be committed; each one was answered 503 AUDIT_UNAVAILABLE',
      registers: [registry],
    }),
    dbQueries: new TallyCounter({
      name: 'caregraph_db_queries_total',
      help: 'SQL statements sent to Postgres, by the first table they name',
      labelNames: ['table'],
      registers: [registry],
    }),
  };
}

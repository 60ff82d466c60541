import type { Counter, Histogram } from 'prom-client';
import type { AuditLog } from './auditLog.js';

export interface AuditCommitMetrics {
  readonly auditCommitDuration: Histogram;
  readonly auditCommitFailures: Counter;
}

/**
 * The audit log, timed: each append that carries rows is observed in
 * `caregraph_audit_commit_duration_seconds` once it settles, and counted in
 * `caregraph_audit_commit_failures_total` when it rejects. The time is the request's, from
 * handing its rows over to the commit: waiting for a group commit is part of what a response
 * waits for. An append that outlives its request's deadline is observed when it settles.
 */
export function measureAuditLog(log: AuditLog, metrics: AuditCommitMetrics): AuditLog {
  return {
    append: async (rows) => {
      // No rows, no commit: a request that read no PHI must not dilute the latency.
      if (rows.length === 0) return log.append(rows);
      const started = performance.now();
      try {
        await log.append(rows);
      } catch (error) {
        metrics.auditCommitFailures.inc();
        throw error;
      } finally {
        metrics.auditCommitDuration.observe((performance.now() - started) / 1000);
      }
    },
  };
}

import type { AuditLog } from '../audit/auditLog.js';
import type { Tracing } from './createTracing.js';
import { markFailed } from './spanErrors.js';

const ATTR_AUDIT_EVENTS = 'caregraph.audit.events';

/**
 * The audit log with one span per request's commit (`audit.commit`), from the moment its
 * events join the group commit until the INSERT that holds them is committed: the time the
 * response waits for its audit trail. A group's shared INSERT is a SQL span under the commit
 * span of the request that started the group.
 */
export function traceAuditLog(log: AuditLog, tracing: Tracing): AuditLog {
  if (!tracing.enabled) return log;
  const { tracer } = tracing;
  return {
    append: (rows) => {
      if (rows.length === 0) return log.append(rows);
      return tracer.startActiveSpan(
        'audit.commit',
        { attributes: { [ATTR_AUDIT_EVENTS]: rows.length } },
        async (span) => {
          try {
            await log.append(rows);
          } catch (error) {
            markFailed(span, error);
            throw error;
          } finally {
            span.end();
          }
        },
      );
    },
  };
}

import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/auditLog.js';
import type { NewAuditEvent } from '../../src/db/tables/index.js';
import { queryRows } from '../support/queryRows.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

function event(requestId: string): NewAuditEvent {
  return {
    tenantId: 't1',
    actorId: 'auditor-test',
    actorRole: 'clinician',
    action: 'read',
    resourceType: 'Patient',
    resourceId: null,
    patientId: null,
    operationName: 'Chart',
    cacheSource: 'l2',
    requestId,
    outcome: 'allowed',
    breakGlassReason: null,
    clientAddress: '127.0.0.1',
  };
}

describe('the audit log', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('commits the events of requests that flush together in one INSERT', async () => {
    const log = createAuditLog(server.database);
    const before = server.auditInserts();
    await Promise.all([
      log.append([event('group-1'), event('group-1')]),
      log.append([event('group-2')]),
      log.append([event('group-3')]),
    ]);
    expect(server.auditInserts() - before).toBe(1);
    const rows = await queryRows<{ request_id: string; cache_source: string; action: string }>(
      server.database.db,
      sql`select request_id, cache_source, action from audit_events where request_id like 'group-%' order by id`,
    );
    expect(rows).toEqual([
      { request_id: 'group-1', cache_source: 'l2', action: 'read' },
      { request_id: 'group-1', cache_source: 'l2', action: 'read' },
      { request_id: 'group-2', cache_source: 'l2', action: 'read' },
      { request_id: 'group-3', cache_source: 'l2', action: 'read' },
    ]);
  });

  it('fails only the request whose events cannot be written', async () => {
    const log = createAuditLog(server.database);
    const results = await Promise.allSettled([
      log.append([event('failed-1')]),
      // A tenant that does not exist breaks the foreign key: the shared statement fails.
      log.append([{ ...event('failed-2'), tenantId: 'no-such-tenant' }]),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
    const rows = await queryRows<{ request_id: string }>(
      server.database.db,
      sql`select request_id from audit_events where request_id like 'failed-%'`,
    );
    expect(rows).toEqual([{ request_id: 'failed-1' }]);
  });
});

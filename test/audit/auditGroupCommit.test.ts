import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/audit/auditLog.js';
import {
  AUDIT_INSERT_COLUMNS,
  AUDIT_INSERT_STATEMENT,
  auditRowsJson,
} from '../../src/db/insertAuditEvents.js';
import type { NewAuditEvent } from '../../src/db/tables/index.js';

const event = (requestId: string): NewAuditEvent => ({
  tenantId: 'tenant-a',
  actorId: 'doctor-1',
  actorRole: 'clinician',
  action: 'read',
  resourceType: 'Patient',
  requestId,
  outcome: 'allowed',
});

/** A statement runner whose statements finish when the test says so. */
function heldStatements() {
  const calls: Array<{ rows: Array<{ request_id: string }>; finish: (error?: Error) => void }> = [];
  return {
    calls,
    executePrepared: (text: string, params: ReadonlyArray<string | null>) => {
      expect(text).toBe(AUDIT_INSERT_STATEMENT);
      return new Promise<void>((resolve, reject) => {
        calls.push({
          rows: JSON.parse(params[0] ?? '[]') as Array<{ request_id: string }>,
          finish: (error) => {
            if (error === undefined) resolve();
            else reject(error);
          },
        });
      });
    },
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('the audit group commit', () => {
  it('sends every column the app role may write, in order, null when absent', () => {
    const [row] = JSON.parse(auditRowsJson([event('r-1')])) as Array<Record<string, unknown>>;
    expect(Object.keys(row ?? {})).toEqual(AUDIT_INSERT_COLUMNS);
    expect(row).toMatchObject({ resource_id: null, patient_id: null, cache_source: null });
  });

  it('keeps hostile text intact in the JSON parameter', () => {
    const odd = 'a"b\\c\u2028\u{1F600}\'); drop table audit_events; --';
    const [row] = JSON.parse(auditRowsJson([{ ...event('r-1'), operationName: odd }])) as Array<
      Record<string, unknown>
    >;
    expect(row?.operation_name).toBe(odd);
  });

  it('groups the requests that flush while INSERTs are under way into the next one', async () => {
    const db = heldStatements();
    const log = createAuditLog(db, 1);
    const first = log.append([event('a')]);
    await turn();
    expect(db.calls).toHaveLength(1);
    // Three requests flush while the first INSERT is under way: none of them starts another.
    const later = [log.append([event('b')]), log.append([event('c')]), log.append([event('d')])];
    await turn();
    expect(db.calls).toHaveLength(1);
    db.calls[0]?.finish();
    await first;
    await turn();
    expect(db.calls).toHaveLength(2);
    expect(db.calls[1]?.rows.map((r) => r.request_id)).toEqual(['b', 'c', 'd']);
    let settled = false;
    void Promise.all(later).then(() => (settled = true));
    await turn();
    // No response leaves before the commit that holds its events.
    expect(settled).toBe(false);
    db.calls[1]?.finish();
    await Promise.all(later);
  });

  it('refuses only the request whose own events fail, when a shared INSERT fails', async () => {
    const db = heldStatements();
    const log = createAuditLog(db, 1);
    const results = Promise.allSettled([log.append([event('ok')]), log.append([event('bad')])]);
    await turn();
    db.calls[0]?.finish(new Error('foreign key'));
    await turn();
    // Each request's events are tried alone.
    expect(db.calls.slice(1).map((c) => c.rows.map((r) => r.request_id))).toEqual([
      ['ok'],
      ['bad'],
    ]);
    db.calls[1]?.finish();
    db.calls[2]?.finish(new Error('foreign key'));
    expect((await results).map((r) => r.status)).toEqual(['fulfilled', 'rejected']);
  });

  it('starts a new INSERT once one finishes, even if it failed', async () => {
    const db = heldStatements();
    const log = createAuditLog(db, 1);
    const first = log.append([event('x')]);
    await turn();
    const second = log.append([event('y')]);
    db.calls[0]?.finish(new Error('gone'));
    await expect(first).rejects.toThrow('gone');
    await turn();
    expect(db.calls).toHaveLength(2);
    db.calls[1]?.finish();
    await second;
  });
  it('rejects rows it cannot encode, without throwing into a timer, and keeps committing', async () => {
    const db = heldStatements();
    const log = createAuditLog(db, 1);
    // JSON.stringify throws on a BigInt, as it throws on a string past V8's length limit.
    const unencodable = { ...event('huge'), operationName: 10n as unknown as string };
    await expect(log.append([unencodable])).rejects.toThrow(TypeError);
    // The slot it took is free again: the next request commits.
    const next = log.append([event('after')]);
    await turn();
    expect(db.calls.map((c) => c.rows.map((r) => r.request_id))).toEqual([['after']]);
    db.calls[0]?.finish();
    await next;
  });

  it('caps a group by rows, never splitting one request, and sends the rest next', async () => {
    const db = heldStatements();
    const log = createAuditLog(db, 2, 3);
    const appends = [
      log.append([event('a'), event('a')]),
      log.append([event('b'), event('b')]),
      log.append([event('c')]),
      log.append([event('d')]),
    ];
    await turn();
    await turn();
    expect(db.calls.map((c) => c.rows.map((r) => r.request_id))).toEqual([
      ['a', 'a', 'b', 'b'],
      ['c', 'd'],
    ]);
    for (const call of db.calls) call.finish();
    await Promise.all(appends);
  });
});

import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { DatabaseHandle } from '../../src/db/client.js';
import { insertAuditRows, type InsertedEvent } from '../support/auditRows.js';
import { queryRows } from '../support/queryRows.js';
import { createTestDatabase } from '../support/testDatabase.js';

const run = promisify(execFile);

/** Runs `npm run audit:export` as a child process, as an operator would. */
function auditExport(args: string[], databaseUrl: string | undefined) {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'silent' };
  if (databaseUrl === undefined) delete env.DATABASE_URL;
  else env.DATABASE_URL = databaseUrl;
  return run(process.execPath, ['--import', 'tsx', 'src/cli/auditExport.ts', ...args], {
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
}

interface Failure {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** How a run that must fail ended. */
async function failureOf(running: Promise<unknown>): Promise<Failure> {
  try {
    await running;
  } catch (error) {
    return error as Failure;
  }
  throw new Error('the export succeeded');
}

const COLUMNS = [
  'id',
  'occurredAt',
  'tenantId',
  'actorId',
  'actorRole',
  'action',
  'resourceType',
  'resourceId',
  'patientId',
  'operationName',
  'cacheSource',
  'requestId',
  'outcome',
  'breakGlassReason',
  'clientAddress',
  'entityCount',
];

const lines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** Tenant by tenant, then oldest first: by time, then by id. */
const exportOrder = (events: ReadonlyArray<InsertedEvent>) =>
  [...events]
    .sort((a, b) =>
      a.row.tenantId !== b.row.tenantId
        ? a.row.tenantId < b.row.tenantId
          ? -1
          : 1
        : a.micros !== b.micros
          ? a.micros < b.micros
            ? -1
            : 1
          : Number(a.id) - Number(b.id),
    )
    .map((event) => event.id);

describe('npm run audit:export', () => {
  it('needs DATABASE_URL, and says why', async () => {
    const failure = await failureOf(
      auditExport(['--from', '2026-01-01', '--to', '2026-01-02'], undefined),
    );
    expect(failure.code).toBe(2);
    expect(failure.stderr).toMatch(/needs DATABASE_URL/);
  });

  it('refuses a bad flag with exit code 2 and a clear message, before it connects', async () => {
    const args = ['--from', '2026-01-01T00:00', '--to', '2026-01-02'];
    const failure = await failureOf(auditExport(args, 'postgres://nobody@127.0.0.1:1/none'));
    expect(failure).toMatchObject({ code: 2, stdout: '' });
    expect(failure.stderr).toMatch(/^audit:export: Invalid --from: must be an ISO-8601 instant/);
    expect(failure.stderr).not.toMatch(/\n\s+at /);
  });

  it('prints its usage with --help', async () => {
    const { stdout } = await auditExport(['--help'], undefined);
    expect(stdout).toMatch(/^usage: npm run audit:export -- --from/);
    expect(stdout).toContain('[from, to)');
  });
});

describe.runIf(inject('postgresRun') !== null)('npm run audit:export against Postgres', () => {
  let database: DatabaseHandle & { readonly url: string | undefined };
  let url: string;
  let seeded: InsertedEvent[];
  const from = '2005-03-01T00:00:00Z';
  const to = '2005-03-02T00:00:00Z';

  beforeAll(async () => {
    database = await createTestDatabase();
    url = database.url ?? '';
    seeded = await insertAuditRows(database.db, [
      { occurredAt: '2005-02-28T23:59:59.999999Z' },
      { occurredAt: from, tenantId: 't2', action: 'deny', outcome: 'denied', actorId: 'x' },
      {
        occurredAt: from,
        breakGlassReason: 'unconscious',
        cacheSource: 'l2',
        clientAddress: '10.1.2.3',
      },
      { occurredAt: '2005-03-01T12:00:00.5+02:00', tenantId: 't2', patientId: randomUUID() },
      {
        occurredAt: '2005-03-01T23:59:59.999999Z',
        actorId: 'x',
        action: 'deny',
        outcome: 'denied',
      },
      { occurredAt: to, tenantId: 't2' },
    ]);
    // Past one batch of the export (1,000 events), with ties on the microsecond across its edge.
    await database.db.execute(sql`
      insert into audit_events (occurred_at, tenant_id, actor_id, actor_role, action,
        resource_type, request_id, outcome)
      select timestamptz '2005-04-01' + (g / 4) * interval '1 millisecond', 't1', 'bulk',
        'clinician', 'read', 'Patient', 'bulk-' || g, 'allowed'
      from generate_series(1, 2345) g`);
  });
  afterAll(async () => {
    await database.close();
  });

  it('writes every event of [from, to) as one NDJSON line, tenant by tenant, oldest first', async () => {
    const { stdout, stderr } = await auditExport(['--from', from, '--to', to], url);
    const events = lines(stdout);
    expect(events.map((event) => event.id)).toEqual(exportOrder(seeded.slice(1, 5)));
    for (const event of events) expect(Object.keys(event)).toEqual(COLUMNS);
    expect(events[3]).toMatchObject({
      occurredAt: '2005-03-01T10:00:00.500000Z',
      tenantId: 't2',
      patientId: seeded[3]?.row.patientId,
    });
    expect(events[0]).toMatchObject({
      occurredAt: '2005-03-01T00:00:00.000000Z',
      action: 'read',
      cacheSource: 'l2',
      breakGlassReason: 'unconscious',
      clientAddress: '10.1.2.3',
      entityCount: null,
    });
    // No progress bar off a terminal: stderr holds the summary alone.
    expect(stderr).toMatch(
      /^exported 4 events \(t1: 2, t2: 2\) to stdout; recorded as export [0-9a-f-]{36}\n$/,
    );
  });

  it('selects by tenant, actor and action', async () => {
    const { stdout } = await auditExport(
      ['--from', from, '--to', to, '--tenant', 't1', '--actor', 'x', '--action', 'DENY'],
      url,
    );
    expect(lines(stdout).map((event) => event.id)).toEqual([seeded[4]?.id]);
  });

  it('reads past its batches without a gap or a repeat, to --out', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'audit-export-')), 'trail.ndjson');
    const args = ['--from', '2005-04-01', '--to', '2005-04-02', '--out', out];
    const { stdout, stderr } = await auditExport(args, url);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^exported 2345 events \(t1: 2345\) to /);
    const events = lines(readFileSync(out, 'utf8'));
    expect(events.map((event) => event.requestId)).toEqual(
      Array.from({ length: 2345 }, (_, i) => `bulk-${String(i + 1)}`),
    );
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const again = await failureOf(auditExport(args, url));
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/cannot create the --out file: .*EEXIST/);
  });

  it('records the export in the trail, one event per tenant with its count, outside its own lines', async () => {
    const { stderr } = await auditExport(['--from', from, '--to', to], url);
    const exportId = /recorded as export ([0-9a-f-]{36})/.exec(stderr)?.[1];
    const recorded = await queryRows<Record<string, unknown>>(
      database.db,
      sql`select tenant_id, actor_id, actor_role, action, resource_type, entity_count,
            operation_name, outcome from audit_events where request_id = ${exportId ?? ''}
          order by tenant_id`,
    );
    const row = { actor_id: 'postgres', actor_role: 'operator', action: 'export' };
    expect(recorded).toEqual([
      {
        ...row,
        tenant_id: 't1',
        resource_type: 'AuditEvent',
        entity_count: 2,
        operation_name: 'audit:export',
        outcome: 'allowed',
      },
      {
        ...row,
        tenant_id: 't2',
        resource_type: 'AuditEvent',
        entity_count: 2,
        operation_name: 'audit:export',
        outcome: 'allowed',
      },
    ]);
    const now = new Date();
    const { stdout } = await auditExport(
      [
        '--from',
        new Date(now.getTime() - 3_600_000).toISOString(),
        '--to',
        new Date(now.getTime() + 60_000).toISOString(),
        '--action',
        'export',
      ],
      url,
    );
    expect(lines(stdout).filter((event) => event.requestId === exportId)).toHaveLength(2);
  });

  it('exports nothing when it cannot record the export', async () => {
    const role = `audit_reader_${randomBytes(4).toString('hex')}`;
    const admin = postgres(url, { max: 1, onnotice: () => undefined });
    try {
      await admin.unsafe(`create role ${role} login password 'reader'`);
      await admin.unsafe(`grant select on audit_events to ${role}`);
      const reader = new URL(url);
      reader.username = role;
      reader.password = 'reader';
      const failure = await failureOf(auditExport(['--from', from, '--to', to], reader.toString()));
      expect(failure).toMatchObject({ code: 1, stdout: '' });
      expect(failure.stderr).toMatch(
        /could not be recorded in the audit trail .*42501.*nothing was exported/,
      );
    } finally {
      await admin.unsafe(`drop owned by ${role}`);
      await admin.unsafe(`drop role ${role}`);
      await admin.end();
    }
  });
});

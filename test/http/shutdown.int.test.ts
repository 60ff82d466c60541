import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { spawnServer, type SpawnedServer } from '../support/spawnServer.js';
import { createTestDatabase } from '../support/testDatabase.js';

const shared = inject('postgresRun') !== null;

const CHART = `query Chart($id: ID!) { patient(id: $id) { id name records { id recordedAt } } }`;

// SIGTERM while requests wait on their audit commit: each finishes, with its audit rows,
// before the pool closes, and the process exits 0 (issue 12, "shutdown without losses").
describe.runIf(shared)('shutdown while requests are in flight', () => {
  let database: DatabaseHandle & { url: string | undefined };
  let server: SpawnedServer;
  let patient: SeededPatient;
  let owner: postgres.Sql;
  const jwt = loadConfig({}).jwt;

  beforeAll(async () => {
    database = await createTestDatabase();
    patient = await seededPatient(database.db, 't1', 1);
    owner = postgres(database.url ?? '', { max: 2, onnotice: () => undefined });
    server = await spawnServer({
      DATABASE_URL: database.url ?? '',
      CACHE_KEY_PREFIX: `stop${randomBytes(4).toString('hex')}`,
      SHUTDOWN_TIMEOUT_MS: '20000',
    });
  }, 60_000);
  afterAll(async () => {
    await server.stop();
    await owner.end();
    await database.close();
  });

  it('answers every request in flight, audited, then exits 0', async () => {
    const token = await signToken(
      { sub: 'stop-1', tenant: 't1', role: 'clinician', doctorId: patient.careTeamDoctorId },
      jwt,
    );
    const requestIds = Array.from(
      { length: 6 },
      (_, i) => `shutdown-${String(i)}-${randomBytes(3).toString('hex')}`,
    );
    const exited = once(server.child, 'exit');
    let responses: Promise<
      Array<{ status: number; body: { errors?: unknown[]; data?: unknown } }>
    > = Promise.resolve([]);
    // The audit table is locked: every request gets as far as its commit, and waits there.
    await owner.begin(async (tx) => {
      await tx`lock table audit_events in exclusive mode`;
      responses = Promise.all(
        requestIds.map(async (id) => {
          const response = await fetch(`${server.origin}/graphql`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${token}`,
              'x-request-id': id,
            },
            body: JSON.stringify({ query: CHART, variables: { id: patient.patientId } }),
          });
          return {
            status: response.status,
            body: (await response.json()) as { errors?: unknown[] },
          };
        }),
      );
      // Wait until the INSERTs are blocked on the lock, then stop the server under them.
      let waiting = 0;
      for (let i = 0; i < 200 && waiting === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        const [row] = await owner<Array<{ n: number }>>`
          select count(*)::int as n from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`;
        waiting = row?.n ?? 0;
      }
      expect(waiting).toBeGreaterThan(0);
      server.child.kill('SIGTERM');
      await new Promise((resolve) => setTimeout(resolve, 500));
      // The server is still draining: it has not exited under its in-flight requests.
      expect(server.child.exitCode, server.output()).toBeNull();
    });
    const answered = await responses;
    for (const r of answered) {
      expect(r.status).toBe(200);
      expect(r.body.errors).toBeUndefined();
    }
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    const rows = await owner<Array<{ request_id: string }>>`
      select distinct request_id from audit_events where request_id in ${owner(requestIds)}`;
    expect(rows.map((r) => r.request_id).sort()).toEqual([...requestIds].sort());
  }, 60_000);
});

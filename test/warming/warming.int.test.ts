import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditEvents } from '../../src/db/tables/index.js';
import { hotSetKey } from '../../src/warming/hotSet.js';
import type { WarmReport } from '../../src/warming/warmPass.js';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { metricValue } from '../support/metricValue.js';
import { queryRows } from '../support/queryRows.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { waitFor } from '../support/waitFor.js';

const CHART = `query Chart($id: ID!) {
  patient(id: $id) { name careTeam { name } records(first: 100) { diagnosis author { name department { name } } } studies { modality orderingDoctor { name } } }
}`;
// Fast passes and flushes, so that a test waits seconds rather than minutes.
const FAST = {
  CACHE_WARM: 'on',
  CACHE_WARM_INTERVAL_MS: '500',
  CACHE_WARM_FLUSH_MS: '500',
  CACHE_WARM_LEASE_MS: '3000',
};

/** The first pass to start after `since` (ms since the epoch) and finish. */
function passAfter(server: TestServer, since: number): Promise<WarmReport> {
  return waitFor('a warming pass', async () => {
    const report = await server.warmer?.lastReport();
    return report !== undefined && Date.parse(report.startedAt) > since ? report : undefined;
  });
}

async function chartStatements(server: TestServer, token: string, patientId: string) {
  const before = server.statements();
  const response = await server.graphql(CHART, { variables: { id: patientId }, token });
  expect(response.body.errors).toBeUndefined();
  expect(response.body.data?.patient).not.toBeNull();
  return server.statements() - before;
}

describe('warming from usage', () => {
  let optedIn: TestServer;
  let notOptedIn: TestServer;
  let patient: SeededPatient;
  let clinician: string;

  beforeAll(async () => {
    [optedIn, notOptedIn] = await Promise.all([
      startTestServer({ ...FAST, CACHE_WARM_PHI_TENANTS: 't1' }),
      startTestServer({ ...FAST }),
    ]);
    patient = await seededPatient(optedIn.database.db, 't1', 3);
    clinician = await optedIn.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
  }, 60_000);
  afterAll(async () => {
    await Promise.all([optedIn.app.close(), notOptedIn.app.close()]);
    await Promise.all([optedIn.database.close(), notOptedIn.database.close()]);
  });

  it('has reference data in L2 within seconds of start, before any request', async () => {
    const server = await startTestServer({ ...FAST });
    try {
      const report = await passAfter(server, 0);
      expect(report.result).toBe('ok');
      expect(report.entries.Doctor ?? 0).toBeGreaterThan(0);
      expect(report.entries.Department ?? 0).toBeGreaterThan(0);
      expect(report.phiRead).toBe(0);
      await server.warmer?.close();
      // The first request of the process: a department with its doctors, all from L2.
      const [department] = await queryRows<{ id: string }>(
        server.database.db,
        sql`select id from departments where tenant_id = 't1' order by name limit 1`,
      );
      const token = await server.token({ role: 'frontdesk' });
      const before = server.statements();
      const response = await server.graphql(
        'query ($id: ID!) { department(id: $id) { name location doctors { name title department { name } } } }',
        { variables: { id: department?.id }, token },
      );
      expect(response.body.errors).toBeUndefined();
      expect(server.statements() - before).toBe(0);
      expect(
        await metricValue(server.metrics.registry, 'caregraph_cache_requests_total', {
          layer: 'l2',
          result: 'miss',
        }),
      ).toBe(0);
    } finally {
      await server.app.close();
      await server.database.close();
    }
  });

  it('warms a hot patient purged from L2 for an opted-in tenant: the next chart costs no SQL', async () => {
    await makeHotAndPurge(optedIn);
    const purgedAt = Date.now();
    const report = await waitFor('a pass that warmed the patient', async () => {
      const last = await passAfter(optedIn, purgedAt);
      return (last.entries.Patient ?? 0) > 0 ? last : undefined;
    });
    expect(report.phiRead).toBeGreaterThan(0);
    // No pass may run while the chart is measured: the warmer's statements are this process's too.
    await optedIn.warmer?.close();
    expect(await chartStatements(optedIn, clinician, patient.patientId)).toBe(0);
  });

  it('does not warm PHI for a tenant that has not opted in: its next chart goes to Postgres', async () => {
    await makeHotAndPurge(notOptedIn, false);
    const purgedAt = Date.now();
    // Two whole passes after the purge.
    const first = await passAfter(notOptedIn, purgedAt);
    const second = await passAfter(notOptedIn, Date.parse(first.startedAt));
    expect(second.phiRead).toBe(0);
    expect(first.entries.Patient).toBeUndefined();
    await notOptedIn.warmer?.close();
    expect(await chartStatements(notOptedIn, clinician, patient.patientId)).toBeGreaterThan(0);
  });

  it('writes one audit event per pass that read PHI: action warm, actor system, with the count', async () => {
    const rows = await optedIn.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.tenantId, 't1'), eq(auditEvents.action, 'warm')));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row).toMatchObject({ actorId: 'system', actorRole: 'system', outcome: 'allowed' });
      expect(row.entityCount).toBeGreaterThan(0);
      expect(row.patientId).toBeNull();
    }
    // One per pass: each names its own pass.
    expect(new Set(rows.map((row) => row.requestId)).size).toBe(rows.length);
    // The other tenant's PHI was never read, so never audited as warmed.
    const t2 = await optedIn.database.db
      .select()
      .from(auditEvents)
      .where(and(eq(auditEvents.tenantId, 't2'), eq(auditEvents.action, 'warm')));
    expect(t2).toEqual([]);
  });

  it('tells administrators, and nobody else, its hit rates, hot set sizes and last pass, in counts only', async () => {
    const query = `{ cacheStats { hitRates { layer type hits misses rate } hotSet { type size }
      l2MemoryBytes warmerLeaseHeld lastWarm { startedAt result statements phiRead entries { type count } } } }`;
    const admin = await optedIn.token({ role: 'admin' });
    const response = await optedIn.graphql(query, { token: admin });
    expect(response.body.errors).toBeUndefined();
    const stats = response.body.data?.cacheStats as {
      hitRates: Array<{ layer: string; type: string; hits: number; rate: number | null }>;
      hotSet: Array<{ type: string; size: number }>;
      l2MemoryBytes: number | null;
      lastWarm: { result: string; entries: Array<{ type: string; count: number }> } | null;
    };
    expect(stats.hitRates.some((r) => r.layer === 'l2' && r.type === 'Patient' && r.hits > 0)).toBe(
      true,
    );
    expect(stats.hotSet.find((h) => h.type === 'Patient')?.size).toBeGreaterThan(0);
    expect(stats.l2MemoryBytes).toBeGreaterThan(0);
    expect(stats.lastWarm?.result).toBe('ok');
    // Counts only: no id, name or value of any patient anywhere in the answer.
    const text = JSON.stringify(response.body);
    expect(text).not.toContain(patient.patientId);
    expect(text).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
    for (const role of ['clinician', 'frontdesk', 'patient', 'auditor'] as const) {
      const token = await optedIn.token({
        role,
        doctorId: patient.careTeamDoctorId,
        patientId: patient.patientId,
      });
      const refused = await optedIn.graphql(query, { token });
      expect(refused.body.data?.cacheStats ?? null).toBeNull();
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('writes no PHI to L2 when its audit event cannot be committed', async () => {
    const server = await startTestServer({ ...FAST, CACHE_WARM_PHI_TENANTS: 't1' });
    try {
      const hot = await seededPatient(server.database.db, 't1', 5);
      const token = await server.token({ role: 'clinician', doctorId: hot.careTeamDoctorId });
      for (let i = 0; i < 3; i++) await chartStatements(server, token, hot.patientId);
      await waitFor('the patient in the hot set', async () => {
        const members = await server.l2.store.warming?.readHotSet(
          hotSetKey(server.l2.space, 't1', 'Patient'),
          1000,
          1,
        );
        return members?.some(([id]) => id === hot.patientId) === true ? true : undefined;
      });
      // The audit trail refuses the warmer's rows from now on, as a full disk or a lock would.
      await server.database.db.execute(sql`
        create function refuse_warm_audit() returns trigger language plpgsql as $$
        begin
          if new.action = 'warm' then raise exception 'audit refused'; end if;
          return new;
        end $$`);
      await server.database.db.execute(sql`
        create trigger refuse_warm_audit before insert on audit_events
        for each row execute function refuse_warm_audit()`);
      const admin = await server.token({ role: 'admin' });
      const purged = await server.graphql('mutation ($id: ID) { purgeCache(patientId: $id) }', {
        variables: { id: hot.patientId },
        token: admin,
      });
      expect(purged.body.errors).toBeUndefined();
      const purgedAt = Date.now();
      const failed = await waitFor(
        'a pass that read the patient and could not audit it',
        async () => {
          const last = await passAfter(server, purgedAt);
          return last.phiRead > 0 ? last : undefined;
        },
      );
      expect(failed.result).toBe('failed');
      expect(failed.entries.Patient).toBeUndefined();
      await server.warmer?.close();
      expect(await chartStatements(server, token, hot.patientId)).toBeGreaterThan(0);
    } finally {
      await server.app.close();
      await server.database.close();
    }
  });

  it('never warms a patient whose consent is withheld', async () => {
    const server = await startTestServer({ ...FAST, CACHE_WARM_PHI_TENANTS: 't1' });
    try {
      const withheld = await seededPatient(server.database.db, 't1', 4);
      const token = await server.token({ role: 'clinician', doctorId: withheld.careTeamDoctorId });
      for (let i = 0; i < 3; i++) await chartStatements(server, token, withheld.patientId);
      const frontdesk = await server.token({ role: 'frontdesk' });
      const revoked = await server.graphql(
        'mutation ($id: ID!) { setConsent(patientId: $id, granted: false) { id } }',
        { variables: { id: withheld.patientId }, token: frontdesk },
      );
      expect(revoked.body.errors).toBeUndefined();
      // Only the patient reads their chart now, and keeps them hot: every read misses L2.
      const self = await server.token({ role: 'patient', patientId: withheld.patientId });
      for (let i = 0; i < 3; i++) await chartStatements(server, self, withheld.patientId);
      const revokedAt = Date.now();
      const written = { patient: 0, records: 0 };
      let last = await passAfter(server, revokedAt);
      for (let pass = 0; pass < 3; pass++) {
        // At most their own row, which says consent is withheld: never their records or studies.
        expect(last.phiRead).toBeLessThanOrEqual(1);
        written.patient += last.entries.Patient ?? 0;
        written.records +=
          (last.entries.MedicalRecord ?? 0) + (last.entries['Patient.records'] ?? 0);
        last = await passAfter(server, Date.parse(last.startedAt));
      }
      expect(written).toEqual({ patient: 0, records: 0 });
      await server.warmer?.close();
      // Nothing of theirs is servable from L2: the chart goes to Postgres whole.
      expect(await chartStatements(server, self, withheld.patientId)).toBeGreaterThan(2);
    } finally {
      await server.app.close();
      await server.database.close();
    }
  });

  async function makeHotAndPurge(server: TestServer, phi = true) {
    for (let i = 0; i < 3; i++) await chartStatements(server, clinician, patient.patientId);
    const members = (type: string) =>
      server.l2.store.warming?.readHotSet(hotSetKey(server.l2.space, 't1', type), 1000, 1);
    // The usage reaches the shared hot set at the next flush: reference data's for any tenant,
    // PHI's only for an opted-in one (whose PHI alone may be warmed).
    await waitFor('the chart in the hot set', async () => {
      const found = await members(phi ? 'Patient' : 'Doctor');
      return found?.some(([id]) => (phi ? id === patient.patientId : true)) === true
        ? true
        : undefined;
    });
    if (!phi) await expect(members('Patient')).resolves.toEqual([]);
    const admin = await server.token({ role: 'admin' });
    const purged = await server.graphql('mutation ($id: ID) { purgeCache(patientId: $id) }', {
      variables: { id: patient.patientId },
      token: admin,
    });
    expect(purged.body.errors).toBeUndefined();
  }
});

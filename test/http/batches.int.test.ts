import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/auth/tokens.js';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { queryRows } from '../support/queryRows.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const manifest = JSON.parse(
  readFileSync(new URL('../../persisted-queries/manifest.json', import.meta.url), 'utf8'),
) as { operations: Array<{ id: string; name: string }> };
const mobileChart = manifest.operations.find((op) => op.name === 'MobileChart');

const PHI_TYPES = new Set(['Patient', 'MedicalRecord', 'Study']);
const CHART = `query Chart($id: ID!) {
  patient(id: $id) { __typename id name mrn phone
    records { __typename id diagnosis notes }
    studies { __typename id modality report } } }`;
const DEMOGRAPHICS =
  'query Demographics($id: ID!) { patient(id: $id) { __typename id name mrn phone } }';
const DEPARTMENTS = 'query Departments { departments { id name } }';
const DOCTORS = 'query Doctors { doctors { id name } }';

interface Sent {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly body: unknown;
}

/** PHI entities in one operation's result, as `Type:id`, each counted once. */
function phiEntitiesOf(result: unknown): Set<string> {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) {
      const record = value as Record<string, unknown>;
      if (typeof record.__typename === 'string' && PHI_TYPES.has(record.__typename)) {
        found.add(`${record.__typename}:${String(record.id)}`);
      }
      Object.values(record).forEach(walk);
    }
  };
  walk(result);
  return found;
}

describe('batched requests', () => {
  let server: TestServer;
  let patients: SeededPatient[];
  let clinicians: string[];
  beforeAll(async () => {
    server = await startTestServer();
    patients = await Promise.all([0, 1, 2].map((i) => seededPatient(server.database.db, 't1', i)));
    clinicians = await Promise.all(
      patients.map((p) => server.token({ role: 'clinician', doctorId: p.careTeamDoctorId })),
    );
  });
  afterAll(async () => {
    await server.close();
  });

  async function send(
    body: unknown,
    token: string,
    headers: Record<string, string> = {},
  ): Promise<Sent> {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, text, body: JSON.parse(text) };
  }

  async function auditRowsOf(requestId: string) {
    return queryRows<{
      action: string;
      resource_type: string;
      resource_id: string;
      operation_name: string | null;
    }>(
      server.database.db,
      sql`select action, resource_type, resource_id, operation_name from audit_events
          where request_id = ${requestId} order by id`,
    );
  }

  it('audits every operation of a batch, each under its own operation name', async () => {
    const patient = patients[0] as SeededPatient;
    const requestId = `batch-${randomUUID()}`;
    const response = await send(
      [
        { query: CHART, operationName: 'Chart', variables: { id: patient.patientId } },
        {
          query: DEMOGRAPHICS,
          operationName: 'Demographics',
          variables: { id: patient.patientId },
        },
        { query: DEPARTMENTS },
      ],
      clinicians[0] as string,
      { 'x-request-id': requestId },
    );
    expect(response.status).toBe(200);
    const results = response.body as unknown[];
    expect(results).toHaveLength(3);
    const rows = await auditRowsOf(requestId);
    const reads = rows.filter((r) => r.action === 'read');
    // Every PHI entity each operation served has exactly one row, under that operation.
    const chart = phiEntitiesOf(results[0]);
    const demographics = phiEntitiesOf(results[1]);
    expect(chart.size).toBeGreaterThan(1);
    expect(reads.filter((r) => r.operation_name === 'Chart')).toHaveLength(chart.size);
    expect(reads.filter((r) => r.operation_name === 'Demographics')).toHaveLength(
      demographics.size,
    );
    expect(reads).toHaveLength(chart.size + demographics.size);
  });

  it('withholds the whole batch when its audit events cannot be written', async () => {
    const requestId = `batch-${randomUUID()}`;
    const batch = patients.map((p) => ({ query: DEMOGRAPHICS, variables: { id: p.patientId } }));
    // A care-team doctor of the first patient; the others are read with break-glass.
    const token = clinicians[0] as string;
    const warm = await send(batch, token, { 'x-break-glass': 'unconscious patient in the ED' });
    expect(warm.status).toBe(200);
    const names = (
      warm.body as Array<{ data: { patient: { name: string; phone: string | null } } }>
    )
      .map((r) => r.data.patient)
      .flatMap((p) => [p.name, p.phone ?? undefined])
      .filter((v): v is string => v !== undefined);
    expect(names.length).toBeGreaterThanOrEqual(3);

    await server.database.db.execute(sql`alter table audit_events rename to audit_events_away`);
    let refused: Sent;
    try {
      refused = await send(batch, token, {
        'x-request-id': requestId,
        'x-break-glass': 'unconscious patient in the ED',
      });
    } finally {
      await server.database.db.execute(sql`alter table audit_events_away rename to audit_events`);
    }
    expect(refused.status).toBe(503);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    const bodies = refused.body as Array<{
      data?: unknown;
      errors: Array<{ extensions: { code: string } }>;
    }>;
    expect(bodies).toHaveLength(3);
    for (const body of bodies) {
      expect(body.data).toBeUndefined();
      expect(body.errors.map((e) => e.extensions.code)).toEqual(['AUDIT_UNAVAILABLE']);
    }
    for (const value of names) expect(refused.text).not.toContain(value);
    expect(await auditRowsOf(requestId)).toEqual([]);
  });

  it('refuses a token whose subject Postgres could not store, before anything is read', async () => {
    for (const sub of ['clinician\u0000x', 'clinician\ud800', 'clinician\u0085x', '']) {
      const token = await signToken(
        {
          sub,
          tenant: 't1',
          role: 'clinician',
          doctorId: (patients[0] as SeededPatient).careTeamDoctorId,
          patientId: undefined,
        },
        server.config.jwt,
        '1h',
      );
      const batch = patients.map((p) => ({ query: DEMOGRAPHICS, variables: { id: p.patientId } }));
      const response = await send(batch, token);
      expect(response.status).toBe(401);
      expect(response.text).toContain('UNAUTHENTICATED');
      expect(response.text).not.toContain('"name"');
    }
  });

  it('gives a batch the most restrictive caching policy of its operations', async () => {
    const patient = patients[0] as SeededPatient;
    const token = clinicians[0] as string;
    const phi = { query: DEMOGRAPHICS, variables: { id: patient.patientId } };
    for (const batch of [
      [phi, { query: DEPARTMENTS }],
      [{ query: DEPARTMENTS }, phi],
      [{ query: DEPARTMENTS }, phi, { query: DOCTORS }],
    ]) {
      const response = await send(batch, token);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe(
        'no-store, no-cache, must-revalidate, max-age=300',
      );
      expect(response.headers.get('pragma')).toBe('no-cache');
    }
    const reference = await send([{ query: DEPARTMENTS }, { query: DOCTORS }], token);
    expect(reference.headers.get('cache-control')).toBe('private, max-age=3600');
    const withError = await send([{ query: DEPARTMENTS }, { query: '{ nope }' }], token);
    expect(withError.headers.get('cache-control')).toBe('no-store');
    const malformed = await send([{ query: DEPARTMENTS }, 'not an operation'], token);
    expect(malformed.headers.get('cache-control')).toBe('no-store');
  });

  it('answers an empty batch with BAD_REQUEST', async () => {
    const response = await send([], clinicians[0] as string);
    expect(response.status).toBe(400);
    expect(response.text).toContain('BAD_REQUEST');
  });

  it('audits exactly the PHI entities served, for APQ and manifest operations too', async () => {
    const patient = patients[1] as SeededPatient;
    const token = clinicians[1] as string;
    const hash = createHash('sha256').update(CHART).digest('hex');
    const persisted = { persistedQuery: { version: 1, sha256Hash: hash } };
    const cases: Array<[string, unknown]> = [
      ['single', { query: CHART, variables: { id: patient.patientId } }],
      [
        'apq-register',
        { query: CHART, variables: { id: patient.patientId }, extensions: persisted },
      ],
      ['apq-hash', { variables: { id: patient.patientId }, extensions: persisted }],
      [
        'manifest',
        {
          variables: { id: patient.patientId },
          extensions: { persistedQuery: { version: 1, sha256Hash: mobileChart?.id } },
        },
      ],
    ];
    for (const [label, body] of cases) {
      const requestId = `${label}-${randomUUID()}`;
      const response = await send(body, token, { 'x-request-id': requestId });
      expect(response.status, label).toBe(200);
      const served = phiEntitiesOf(response.body);
      expect(served.size, label).toBeGreaterThan(1);
      const reads = (await auditRowsOf(requestId)).filter((r) => r.action === 'read');
      expect(new Set(reads.map((r) => `${r.resource_type}:${r.resource_id}`)), label).toEqual(
        served,
      );
      expect(reads, label).toHaveLength(served.size);
    }
  });
});

describe.runIf(process.env.DATABASE_URL)('batches when Postgres goes away', () => {
  let server: TestServer;
  let patients: SeededPatient[];
  beforeAll(async () => {
    server = await startTestServer();
    patients = await Promise.all([0, 1, 2].map((i) => seededPatient(server.database.db, 't2', i)));
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves no chart of a batch from a warm L2 once the audit cannot be written', async () => {
    const patient = patients[0] as SeededPatient;
    const token = await server.token({
      role: 'clinician',
      tenant: 't2',
      doctorId: patient.careTeamDoctorId,
    });
    const batch = [0, 1, 2].map(() => ({ query: CHART, variables: { id: patient.patientId } }));
    const post = async () => {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(batch),
      });
      return { status: response.status, text: await response.text() };
    };
    const warm = await post();
    expect(warm.status).toBe(200);
    const [first] = JSON.parse(warm.text) as Array<{ data: { patient: { name: string } } }>;
    const name = first?.data.patient.name as string;
    // The L2 entries are written before the response; a second read is served from them.
    expect((await post()).status).toBe(200);

    const [current] = await queryRows<{ name: string }>(
      server.database.db,
      sql`select current_database() as name`,
    );
    const database = current?.name as string;
    const admin = postgres(process.env.DATABASE_URL as string, {
      max: 1,
      onnotice: () => undefined,
    });
    try {
      await admin.unsafe(`drop database "${database}" with (force)`);
    } finally {
      await admin.end();
    }
    const refused = await post();
    expect(refused.status).toBe(503);
    expect(refused.text).not.toContain(name);
    expect(refused.text).toContain('AUDIT_UNAVAILABLE');

    // Data that needs no audit fails with a code of its own, not INTERNAL_SERVER_ERROR.
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ doctors { id } }' }),
    });
    const text = await response.text();
    expect(response.status).toBe(503);
    expect(text).toContain('DATABASE_UNAVAILABLE');
    expect(text).not.toContain('INTERNAL_SERVER_ERROR');
  });
});

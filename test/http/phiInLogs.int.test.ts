import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';
import {
  Canaries,
  canaryRequests,
  type CanaryFixture,
  type CanaryRequest,
} from '../support/canaryRequests.js';
import { spawnServer, type SpawnedServer } from '../support/spawnServer.js';
import { createTestDatabase } from '../support/testDatabase.js';

interface Answer {
  readonly status: number;
  readonly body: { data?: unknown; errors?: Array<{ extensions?: { code?: unknown } }> };
}

const run = inject('postgresRun');

// The real process, as `npm start` runs it, with every line it writes to stdout and stderr.
describe('the server log', () => {
  const secret = randomBytes(24).toString('hex');
  const jwt = loadConfig({ JWT_SECRET: secret }).jwt;
  let server: SpawnedServer;
  let databaseUrl: string | undefined;
  let fixture: CanaryFixture;

  beforeAll(async () => {
    if (run !== null) {
      const database = await createTestDatabase();
      databaseUrl = database.url;
      await database.close();
    }
    server = await spawnServer({
      LOG_LEVEL: 'trace',
      JWT_SECRET: secret,
      CACHE_KEY_PREFIX: `logs${randomBytes(4).toString('hex')}`,
      ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
    });
    fixture = await findFixture();
  }, 120_000);
  afterAll(async () => {
    await server.stop();
  });

  async function token(role: CanaryRequest['role'], claims: Record<string, string> = {}) {
    return signToken({ sub: `logs-${role}`, tenant: 't1', role, ...claims }, jwt);
  }

  async function send(request: CanaryRequest): Promise<Answer> {
    const claims: Record<string, string> =
      request.role === 'clinician'
        ? { doctorId: request.doctorId ?? fixture.careTeamDoctorId }
        : {};
    const headers = {
      authorization: `Bearer ${await token(request.role, claims)}`,
      ...request.headers,
    };
    const response =
      request.method === 'GET'
        ? await fetch(
            `${server.origin}/graphql?${new URLSearchParams({
              query: request.query,
              variables: JSON.stringify(request.variables ?? {}),
            }).toString()}`,
            { headers },
          )
        : await fetch(`${server.origin}/graphql`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify({ query: request.query, variables: request.variables }),
          });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  }

  /** A chart with a study and a care team, found the way a client would find it. */
  async function findFixture(): Promise<CanaryFixture> {
    const ids = async (request: CanaryRequest, pick: (data: never) => string[]) =>
      pick((await send(request)).body.data as never);
    const patients = await ids(
      {
        label: '',
        role: 'frontdesk',
        query:
          '{ a: patients(search: "an", first: 100) { id } b: patients(search: "er", first: 100) { id } }',
      },
      (data: Record<string, Array<{ id: string }>>) =>
        Object.values(data).flatMap((list) => list.map((p) => p.id)),
    );
    const doctors = await ids(
      { label: '', role: 'admin', query: '{ doctors { id } }' },
      (data: { doctors: Array<{ id: string }> }) => data.doctors.map((d) => d.id),
    );
    for (const patientId of patients) {
      const chart = (await fetch(`${server.origin}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${await token('patient', { patientId })}`,
        },
        body: JSON.stringify({
          query: `{ patient(id: ${JSON.stringify(patientId)}) { careTeam { id } studies { id } } }`,
        }),
      }).then((r) => r.json())) as {
        data?: { patient: { careTeam: Array<{ id: string }>; studies: Array<{ id: string }> } };
      };
      const team = chart.data?.patient.careTeam.map((d) => d.id) ?? [];
      const [studyId] = chart.data?.patient.studies.map((s) => s.id) ?? [];
      const otherDoctorId = doctors.find((id) => !team.includes(id));
      if (team[0] !== undefined && studyId !== undefined && otherDoctorId !== undefined) {
        return { patientId, studyId, careTeamDoctorId: team[0], otherDoctorId };
      }
    }
    throw new Error('no seeded chart with a study and a care team');
  }

  /** SQL statements the server has sent, other than audit inserts, from its own metric. */
  async function statements(): Promise<number> {
    const text = await (await fetch(`${server.origin}/metrics`)).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith('caregraph_db_queries_total{'))
      .filter((line) => !line.includes('table="audit_events"'))
      .reduce((sum, line) => sum + Number(line.split(' ').pop()), 0);
  }

  /**
   * Sends every canary, clean then spoiled, and reports the requests whose values reached the
   * log, the spoiled requests not refused as BAD_USER_INPUT, and the SQL those refusals sent.
   */
  async function sendEveryCanary(phase: 'healthy' | 'dropped') {
    const canaries = new Canaries();
    const clean = canaryRequests(fixture, canaries, false);
    const spoiled = canaryRequests(fixture, canaries, true);
    const answers: string[] = [];
    for (const request of clean) {
      const answer = await send(request);
      const codes = answer.body.errors?.map((e) => e.extensions?.code) ?? [];
      if (phase === 'healthy' && codes.includes('INTERNAL_SERVER_ERROR'))
        answers.push(`${request.label}: INTERNAL_SERVER_ERROR`);
    }
    const before = await statements();
    for (const request of spoiled) {
      const answer = await send(request);
      const code = answer.body.errors?.[0]?.extensions?.code;
      if (answer.status !== 400 || code !== 'BAD_USER_INPUT' || answer.body.data != null)
        answers.push(`${request.label} (spoiled): ${String(answer.status)} ${String(code)}`);
    }
    const refusedStatements = (await statements()) - before;
    // Case-blind: a search term reaches SQL lower-cased, inside a LIKE pattern. The operation
    // name is the one part of a document the request log keeps (SPEC §7), as its `operation`
    // field and nowhere else: that field alone is set aside.
    const log = server
      .output()
      .replace(/"operation":"[_A-Za-z][_0-9A-Za-z]*"/g, '"operation":""')
      .toLowerCase();
    const leaked = canaries.minted.filter((canary) => log.includes(canary.toLowerCase()));
    const leaks = [...clean, ...spoiled]
      .filter((request) => leaked.some((canary) => JSON.stringify(request).includes(canary)))
      .map((request) => request.label);
    return { outcome: { leaks, answers, refusedStatements }, sent: canaries.minted.length };
  }

  const clean = { leaks: [], answers: [], refusedStatements: 0 };

  it('holds no argument, variable or header value of any request while the database is healthy', async () => {
    const { outcome, sent } = await sendEveryCanary('healthy');
    expect(sent).toBeGreaterThan(60);
    expect(server.output()).toContain('Server listening');
    expect(outcome).toEqual(clean);
  });

  it.runIf(run !== null)(
    'holds none of them either once the database is dropped under the server',
    async () => {
      if (run === null || databaseUrl === undefined) return;
      const name = new URL(databaseUrl).pathname.slice(1);
      const admin = postgres(run.baseUrl, { max: 1, onnotice: () => undefined });
      try {
        await admin.unsafe(`drop database "${name}" with (force)`);
      } finally {
        await admin.end();
      }
      const logged = server.output().length;
      const { outcome } = await sendEveryCanary('dropped');
      // The failures were logged, so the log was there to leak into.
      expect(server.output().slice(logged)).toMatch(/"level":(40|50)/);
      expect(outcome).toEqual(clean);
    },
  );
});

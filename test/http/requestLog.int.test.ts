import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { metricValue } from '../support/metricValue.js';
import { linesOf, loggedServer, type Line } from '../support/loggedServer.js';
import type { TestServer } from '../support/testServer.js';
import { waitFor } from '../support/waitFor.js';

const manifest = JSON.parse(
  readFileSync(new URL('../../persisted-queries/manifest.json', import.meta.url), 'utf8'),
) as { operations: Array<{ id: string; name: string }> };
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const CHART = 'query Chart($id: ID!) { patient(id: $id) { id name records { id diagnosis } } }';
const canary = () => `CANARY${randomBytes(6).toString('hex')}`;

describe('the request log', () => {
  let server: TestServer;
  let output: () => string;
  let patient: SeededPatient;
  let clinician: string;
  let sent = 0;

  beforeAll(async () => {
    ({ server, output } = await loggedServer());
    patient = await seededPatient(server.database.db);
    clinician = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
  });
  afterAll(async () => {
    await server.close();
  });

  /** POSTs a body with a request id of its own, and answers its one request line. */
  async function send(
    body: unknown,
    options: { token?: string; headers?: Record<string, string>; method?: 'GET' } = {},
  ): Promise<{ line: Line; status: number; text: string; requestId: string }> {
    const requestId = `rl-${String(++sent)}-${randomBytes(3).toString('hex')}`;
    const headers = {
      'x-request-id': requestId,
      ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
      ...options.headers,
    };
    const response =
      options.method === 'GET'
        ? await fetch(`${server.url}/graphql?${String(body)}`, { headers })
        : await fetch(`${server.url}/graphql`, {
            method: 'POST',
            headers: { ...headers, 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
    const text = await response.text();
    // The line is written once the response has gone, which the client may see first.
    const line = await waitFor('the request line', () => {
      const lines = requestLines(requestId);
      return lines.length > 0 ? lines : undefined;
    });
    expect(line).toHaveLength(1);
    return { line: line[0] as Line, status: response.status, text, requestId };
  }

  function requestLines(requestId: string): Line[] {
    return linesOf(output()).filter(
      (line) => line.reqId === requestId && line.msg === 'request completed',
    );
  }

  /** The lookups and statements the process counted while `work` ran, from its own metrics. */
  async function counted(work: () => Promise<Line>) {
    const { registry } = server.metrics;
    const lookups = async () =>
      Promise.all(
        ['l1', 'l2'].flatMap((layer) =>
          ['hit', 'miss'].map((result) =>
            metricValue(registry, 'caregraph_cache_requests_total', { layer, result }),
          ),
        ),
      );
    const before = await lookups();
    const statementsBefore = server.statements() + server.auditInserts();
    const line = await work();
    const after = await lookups();
    const [l1Hits = 0, l1Misses = 0, l2Hits = 0, l2Misses = 0] = after.map(
      (value, i) => value - (before[i] ?? 0),
    );
    return {
      line,
      expected: {
        l1Hits,
        l1Misses,
        l2Hits,
        l2Misses,
        sqlStatements: server.statements() + server.auditInserts() - statementsBefore,
      },
    };
  }

  it('writes one info line for a chart query: its operation, client, caller, status and ISO time', async () => {
    const { line, status } = await send(
      { query: CHART, variables: { id: patient.patientId } },
      {
        token: clinician,
        headers: {
          'apollographql-client-name': 'portal web<script>',
          'apollographql-client-version': '2.4.1',
        },
      },
    );
    expect(status).toBe(200);
    expect(line).toMatchObject({
      level: 30,
      msg: 'request completed',
      method: 'POST',
      route: '/graphql',
      status: 200,
      operation: 'Chart',
      persisted: 'text',
      clientName: 'portal_web_script_',
      clientVersion: '2.4.1',
      tenant: 't1',
      role: 'clinician',
    });
    expect(line.time).toMatch(ISO_TIME);
    expect(Math.abs(Date.parse(line.time) - Date.now())).toBeLessThan(600_000);
    expect(typeof line.durationMs).toBe('number');
    expect(line).not.toHaveProperty('errors');
    // No user id: the request id leads to the audit rows, which name the actor.
    expect(JSON.stringify(line)).not.toContain('test-clinician');
  });

  it('counts the L1 and L2 lookups and SQL statements of a cold read and of a warm re-read', async () => {
    const other = await seededPatient(server.database.db, 't1', 3);
    const token = await server.token({ role: 'clinician', doctorId: other.careTeamDoctorId });
    const read = async () =>
      (await send({ query: CHART, variables: { id: other.patientId } }, { token })).line;
    const cold = await counted(read);
    expect(cold.line).toMatchObject(cold.expected);
    expect(cold.expected.l1Misses).toBeGreaterThan(0);
    expect(cold.expected.sqlStatements).toBeGreaterThan(1);
    const warm = await counted(read);
    expect(warm.line).toMatchObject(warm.expected);
    expect(warm.expected.l2Hits + warm.expected.l2Misses).toBeGreaterThan(0);
  });

  it('adds, at debug, a line of the lookups by type and one when the request arrives', async () => {
    const { requestId, line } = await send(
      { query: CHART, variables: { id: patient.patientId } },
      { token: clinician },
    );
    const lines = linesOf(output()).filter((l) => l.reqId === requestId);
    const detail = lines.find((l) => l.msg === 'request cache detail');
    expect(detail?.level).toBe(20);
    const cache = detail?.cache as Record<string, Record<string, { hits: number; misses: number }>>;
    const l1 = Object.values(cache.l1 ?? {}).reduce((sum, c) => sum + c.hits + c.misses, 0);
    expect(l1).toBe(Number(line.l1Hits) + Number(line.l1Misses));
    expect(Object.keys(cache.l1 ?? {})).toContain('Patient');
    expect(lines.find((l) => l.msg === 'request received')?.level).toBe(20);
  });

  it('writes one line for a batch, naming each of its operations', async () => {
    const { line, status } = await send(
      [
        { query: 'query Departments { departments { id } }' },
        { query: '{ doctors { id } }' },
        { query: CHART, variables: { id: patient.patientId }, operationName: 'Chart' },
      ],
      { token: clinician },
    );
    expect(status).toBe(200);
    expect(line).toMatchObject({
      batch: 3,
      operations: ['Departments', null, 'Chart'],
      persisted: ['text', 'text', 'text'],
    });
    expect(line).not.toHaveProperty('operation');
  });

  it('says how a persisted query arrived: by manifest id, registered, or by hash', async () => {
    const doctors = manifest.operations.find((op) => op.name === 'MobileDoctors');
    if (doctors === undefined) throw new Error('manifest has no MobileDoctors');
    const byId = await send(
      { extensions: { persistedQuery: { version: 1, sha256Hash: doctors.id } } },
      { token: clinician },
    );
    expect(byId.line).toMatchObject({ operation: 'MobileDoctors', persisted: 'manifest' });
    const query = `query Wards${randomBytes(3).toString('hex')} { departments { id } }`;
    const hash = createHash('sha256').update(query).digest('hex');
    const extensions = { persistedQuery: { version: 1, sha256Hash: hash } };
    const registered = await send({ query, extensions }, { token: clinician });
    expect(registered.line).toMatchObject({ persisted: 'apqRegister', status: 200 });
    const replayed = await send({ extensions }, { token: clinician });
    expect(replayed.line).toMatchObject({ persisted: 'apq', status: 200 });
    const unknown = await send(
      { extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } },
      { token: clinician },
    );
    expect(unknown.line.errors).toEqual(['PERSISTED_QUERY_NOT_FOUND']);
  });

  it('logs a refused token with why, never the token', async () => {
    const expired = await server.token({
      role: 'clinician',
      doctorId: patient.careTeamDoctorId,
      expiresIn: Math.floor(Date.now() / 1000) - 60,
    });
    const forged = `${clinician.slice(0, -4)}AAAA`;
    const cases = [
      [undefined, 'missing'],
      ['not-a-jwt', 'malformed'],
      [expired, 'expired'],
      [forged, 'invalid'],
    ] as const;
    for (const [token, reason] of cases) {
      const { line, status } = await send(
        { query: CHART, variables: { id: patient.patientId } },
        token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
      );
      expect(status).toBe(401);
      expect(line).toMatchObject({ level: 30, auth: reason, errors: ['UNAUTHENTICATED'] });
      expect(line).not.toHaveProperty('tenant');
    }
    for (const token of [expired, forged]) {
      expect(output()).not.toContain(token.split('.')[2]);
    }
  });

  it('warns of break-glass access with the clinician and the length of the reason, not its text', async () => {
    const secret = canary();
    const reason = `Unconscious on arrival, ${secret}`;
    const token = await server.token({ role: 'clinician', doctorId: patient.otherDoctorId });
    const { line, status, requestId } = await send(
      { query: CHART, variables: { id: patient.patientId } },
      { token, headers: { 'x-break-glass': reason } },
    );
    expect(status).toBe(200);
    expect(line).toMatchObject({ breakGlass: true, role: 'clinician' });
    const warning = linesOf(output()).find(
      (l) => l.reqId === requestId && l.msg === 'break-glass access',
    );
    expect(warning).toMatchObject({
      level: 40,
      actor: 'test-clinician',
      role: 'clinician',
      tenant: 't1',
      reasonLength: reason.length,
      status: 200,
    });
    expect(output()).not.toContain(secret);
  });

  it('keeps no search term, variable, query text or URL query string', async () => {
    const term = canary();
    const name = canary();
    const search = 'query Find($term: String!) { patients(search: $term, first: 5) { id } }';
    const posted = await send({ query: search, variables: { term } }, { token: clinician });
    expect(posted.line).toMatchObject({ operation: 'Find', status: 200 });
    const params = new URLSearchParams({
      query: search,
      variables: JSON.stringify({ term: name }),
    });
    const got = await send(params.toString(), { token: clinician, method: 'GET' });
    expect(got.line).toMatchObject({ method: 'GET', route: '/graphql', operation: 'Find' });
    const chart = await send(
      { query: CHART, variables: { id: patient.patientId } },
      { token: clinician },
    );
    const patientName = (JSON.parse(chart.text) as { data: { patient: { name: string } } }).data
      .patient.name;
    const log = output();
    for (const value of [term, name, patientName, 'patients(search', '?query=', 'variables=']) {
      expect(log).not.toContain(value);
    }
    expect(log).not.toContain(patient.patientId);
  });

  it('writes one line for a client that hangs up before its answer, its audited reads included', async () => {
    const requestId = `rl-gone-${randomBytes(3).toString('hex')}`;
    const body = JSON.stringify({ query: CHART, variables: { id: patient.patientId } });
    const { hostname: host, port } = new URL(server.url);
    const socket = connect(Number(port), host);
    await once(socket, 'connect');
    socket.write(
      `POST /graphql HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
        `Authorization: Bearer ${clinician}\r\nX-Request-Id: ${requestId}\r\n` +
        `Content-Length: ${String(Buffer.byteLength(body))}\r\n\r\n${body}`,
    );
    socket.resetAndDestroy();
    const lines = await waitFor('the line of the request whose client left', () => {
      const found = requestLines(requestId);
      return found.length > 0 ? found : undefined;
    });
    // Before, a client that left got no line at all, though its reads were run and audited.
    expect(lines).toHaveLength(1);
    const [line] = lines;
    if (line?.aborted === true) expect(line.status).toBe(499);
    else expect(line?.status).toBe(200);
    expect(line).toMatchObject({ route: '/graphql', operation: 'Chart', role: 'clinician' });
  });

  it('writes one line for a request the HTTP parser refused, with its code only', async () => {
    const unparsed = () =>
      linesOf(output()).filter(
        (line) => line.route === 'unparsed' && line.msg === 'request completed',
      );
    const before = unparsed().length;
    const { hostname: host, port } = new URL(server.url);
    const socket = connect(Number(port), host);
    await once(socket, 'connect');
    socket.end(`GET /graphql?x=${canary()} HTTP/1.1\r\nX-Bad: a\u0001b\r\n\r\n`);
    const [refused] = await waitFor('the refused request line', () => {
      const found = unparsed().slice(before);
      return found.length > 0 ? found : undefined;
    });
    expect(refused).toMatchObject({ status: 400, errors: ['BAD_REQUEST'] });
    expect(output()).not.toContain('CANARY');
  });

  it('logs probes at debug only', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      await (
        await fetch(`${server.url}${path}`, {
          headers: { 'x-request-id': `probe${path.slice(1)}` },
        })
      ).text();
      const line = await waitFor(`the ${path} line`, () =>
        linesOf(output()).find((l) => l.reqId === `probe${path.slice(1)}`),
      );
      expect(line).toMatchObject({ level: 20, route: path, status: 200 });
    }
  });
});

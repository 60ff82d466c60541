import { randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { queryRows } from '../support/queryRows.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

interface RawResponse {
  readonly status: number;
  readonly text: string;
}

/**
 * POSTs over a bare socket, so that header values go out as the exact bytes given: fetch and
 * Headers refuse anything but Latin-1, and node:http re-encodes header strings.
 */
async function rawPost(
  url: string,
  headers: ReadonlyArray<readonly [string, string | Buffer]>,
  body: string,
): Promise<RawResponse> {
  const { hostname, port } = new URL(url);
  const request = Buffer.concat([
    Buffer.from(
      `POST /graphql HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`,
    ),
    ...headers.map(([name, value]) =>
      Buffer.concat([Buffer.from(`${name}: `), Buffer.from(value), Buffer.from('\r\n')]),
    ),
    Buffer.from(`\r\n${body}`),
  ]);
  const received = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    // write, not end: a half-closed socket reads to the server as a client gone away.
    const socket = connect(Number(port), hostname, () => socket.write(request));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      resolve(Buffer.concat(chunks));
    });
  });
  const text = received.toString('utf8');
  const split = text.indexOf('\r\n\r\n');
  return { status: Number(text.slice(9, 12)), text: split < 0 ? '' : text.slice(split + 4) };
}

interface AuditRow {
  action: string;
  break_glass_reason: string | null;
  reason_hex: string | null;
}

const CHART = 'query Chart($id: ID!) { patient(id: $id) { __typename id name } }';

describe('break-glass reasons', () => {
  let server: TestServer;
  let stored: SeededPatient;
  beforeAll(async () => {
    server = await startTestServer();
    stored = await seededPatient(server.database.db, 't1', 1);
  });
  afterAll(async () => {
    await server.close();
  });

  const eventsOf = (requestId: string) =>
    queryRows<AuditRow>(
      server.database.db,
      sql`select action, break_glass_reason,
            encode(convert_to(break_glass_reason, 'UTF8'), 'hex') as reason_hex
          from audit_events where request_id = ${requestId} order by id`,
    );

  async function emergencyRead(
    patient: SeededPatient,
    reasons: ReadonlyArray<string | Buffer>,
    body?: string,
  ) {
    const token = await server.token({ role: 'clinician', doctorId: patient.otherDoctorId });
    const requestId = randomUUID();
    const response = await rawPost(
      server.url,
      [
        ['Authorization', `Bearer ${token}`],
        ['X-Request-Id', requestId],
        ...reasons.map((reason) => ['X-Break-Glass', reason] as const),
      ],
      body ?? JSON.stringify({ query: CHART, variables: { id: patient.patientId } }),
    );
    return { response, events: await eventsOf(requestId) };
  }

  it('stores a UTF-8 reason byte for byte, inner spacing included, from many clinicians at once', async () => {
    const reasons = [
      'Notfall: Bewusstlosigkeit, Allergie unbekannt — 急患',
      'Unconscious  in the ED,   no next of kin',
      'Unconscious\u2003in the ED,\u2009no\u200aID',
      'Ασθενής αναίσθητος στα επείγοντα',
      '急患'.repeat(250),
    ];
    const results = await Promise.all(reasons.map((reason) => emergencyRead(stored, [reason])));
    for (const [index, { response, events }] of results.entries()) {
      const reason = reasons[index] ?? '';
      expect(response.status, reason).toBe(200);
      expect(response.text).toContain(stored.patientId);
      expect(events).toEqual([
        {
          action: 'break_glass',
          break_glass_reason: reason,
          reason_hex: Buffer.from(reason).toString('hex'),
        },
        {
          action: 'read',
          break_glass_reason: reason,
          reason_hex: Buffer.from(reason).toString('hex'),
        },
      ]);
    }
  });

  it("stores the text of an RFC 8187 reason (UTF-8''…), as a browser must send it", async () => {
    const reason = 'Notfall: Bewusstlosigkeit (Allergie unbekannt) — 急患';
    const { response, events } = await emergencyRead(stored, [
      `UTF-8''${encodeURIComponent(reason)}`,
    ]);
    expect(response.status).toBe(200);
    expect(events.map((event) => event.break_glass_reason)).toEqual([reason, reason]);
  });

  it('refuses unprintable, undecodable, oversized, blank and wordless reasons, and stores and serves nothing', async () => {
    const [refused, refusedName] = await patientOutsideTheTeam(2);
    const cases: Array<[string, Array<string | Buffer>]> = [
      ['U+0085 NEL', ['Unconscious Zebracanary\u0085patient in ED']],
      ['an escaped U+0000', ["UTF-8''Unconscious%20Zebracanary%00patient%20in%20ED"]],
      ['U+202E', ['Unconscious Zebracanary \u202epatient in ED']],
      ['U+200B', ['Unconscious Zebra\u200bcanary patient in ED']],
      ['a TAB', ['Unconscious Zebracanary\tpatient in ED']],
      ['a byte that is not UTF-8', [Buffer.from('Unconscious Zebracanary \xff patient', 'latin1')]],
      ['an encoded surrogate', [Buffer.from('Unconscious Zebracanary \xed\xa0\x80 x', 'latin1')]],
      ['501 code points', [`Zebracanary ${'急'.repeat(489)}`]],
      ['a huge value', [`Zebracanary ${'a'.repeat(12_000)}`]],
      ['blank', ['          ']],
      ['no-break spaces only', ['\u00a0'.repeat(12)]],
      ['no words', ['1234567890 !!! ???']],
      ['U+2800 BRAILLE PATTERN BLANK', ['Unconscious Zebracanary\u2800patient in ED']],
      ['U+1D159 MUSICAL SYMBOL NULL NOTEHEAD', ['Unconscious Zebracanary\u{1d159} in ED']],
      ['padded with U+2800', [`${'\u2800'.repeat(12)} Zebracanary`]],
      ['U+3164 HANGUL FILLER', ['Unconscious Zebracanary\u3164patient in ED']],
      ['em spaces only', ['abc' + '\u2003'.repeat(12)]],
      ['an ISO-8859-1 RFC 8187 value', ["ISO-8859-1''Notfall%20Zebracanary%20%C4rztin"]],
      ['a windows-1252 RFC 8187 value', ["windows-1252'de'Notfall%20Zebracanary%20im%20ED"]],
      ['the header twice', ['Unconscious Zebracanary', 'patient in the ED']],
    ];
    const results = await Promise.all(cases.map(([, values]) => emergencyRead(refused, values)));
    for (const [index, { response, events }] of results.entries()) {
      const label = cases[index]?.[0];
      expect(response.status, label).toBe(400);
      const body = JSON.parse(response.text) as {
        data?: unknown;
        errors?: Array<{ extensions?: { code?: string } }>;
      };
      expect(body.data, label).toBeUndefined();
      expect(body.errors?.[0]?.extensions?.code, label).toBe('BREAK_GLASS_REASON_REQUIRED');
      expect(response.text, label).not.toMatch(/zebra|canary/i);
      expect(response.text, label).not.toContain(refusedName);
      expect(response.text, label).not.toContain(refused.patientId);
      expect(events, label).toEqual([]);
    }
    await expectNoEventsFor(refused);
  });

  it('refuses a whole batch whose reason holds a C1 control', async () => {
    const [refused, refusedName] = await patientOutsideTheTeam(3);
    const operation = { query: CHART, variables: { id: refused.patientId } };
    const { response, events } = await emergencyRead(
      refused,
      ['Unconscious patient\u0085 in the ED'],
      JSON.stringify([operation, operation]),
    );
    expect(response.status).toBe(400);
    expect(response.text).not.toContain(refusedName);
    expect(events).toEqual([]);
    await expectNoEventsFor(refused);
  });

  it('never lets a raw NUL or C0 control byte through the HTTP parser', async () => {
    const [refused, refusedName] = await patientOutsideTheTeam(4);
    for (const byte of ['\x00', '\x1b', '\x7f']) {
      const reason = Buffer.from(`Unconscious patient ${byte} in the ED`, 'latin1');
      const { response, events } = await emergencyRead(refused, [reason]);
      expect(response.status).toBe(400);
      expect(response.text).not.toContain(refusedName);
      expect(events).toEqual([]);
    }
    await expectNoEventsFor(refused);
  });

  /** A seeded patient of its own for a test, so that no other test's rows can count, and its name. */
  async function patientOutsideTheTeam(offset: number): Promise<[SeededPatient, string]> {
    const patient = await seededPatient(server.database.db, 't1', offset);
    const [row] = await queryRows<{ name: string }>(
      server.database.db,
      sql`select name from patients where id = ${patient.patientId}`,
    );
    return [patient, row?.name ?? 'unknown'];
  }

  async function expectNoEventsFor(patient: SeededPatient): Promise<void> {
    const rows = await queryRows<{ n: number }>(
      server.database.db,
      sql`select count(*)::int as n from audit_events where patient_id = ${patient.patientId}`,
    );
    expect(rows[0]?.n).toBe(0);
  }
});

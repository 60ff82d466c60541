import { SpanKind } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createTracing, type Tracing } from '../../src/tracing/createTracing.js';
import { exportedSpan } from '../support/exportedSpan.js';
import { createChartPatient } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { waitFor } from '../support/waitFor.js';

const CHART_QUERY = /* GraphQL */ `
  query Chart($id: ID!) {
    patient(id: $id) {
      name
      mrn
      careTeam {
        name
      }
      records(first: 10) {
        diagnosis
        author {
          name
        }
      }
      studies {
        modality
      }
    }
  }
`;

const MANIFEST = JSON.parse(
  readFileSync(new URL('../../persisted-queries/manifest.json', import.meta.url), 'utf8'),
) as { operations: Array<{ id: string; name: string }> };

const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('tracing', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let server: TestServer;
  let chart: { patientId: string; careTeamDoctorId: string };

  beforeAll(async () => {
    tracing = createTracing(loadConfig({}).tracing, {
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    server = await startTestServer({}, undefined, { tracing });
    chart = await createChartPatient(server.database.db, {
      recordCount: 3,
      studyCount: 2,
      mrn: `TRACE${randomBytes(3).toString('hex')}`,
    });
  });
  afterAll(async () => {
    await server.close();
    await tracing.shutdown();
  });
  beforeEach(() => {
    exporter.reset();
  });

  /** The spans of the one request sent since the last reset, once its span has ended. */
  async function requestTrace() {
    const root = await waitFor('the request span', () =>
      exporter.getFinishedSpans().find((span) => span.kind === SpanKind.SERVER),
    );
    const spans = exporter.getFinishedSpans();
    const under = (ancestor: ReadableSpan, span: ReadableSpan): boolean => {
      const parent = spans.find((s) => idOf(s) === parentOf(span));
      return parent !== undefined && (parent === ancestor || under(ancestor, parent));
    };
    return { root, spans, under };
  }

  async function clinicianToken() {
    return server.token({ role: 'clinician', doctorId: chart.careTeamDoctorId });
  }

  it('puts the L2 round trips, the SQL and the audit commit of a chart under its request span', async () => {
    const response = await server.graphql(CHART_QUERY, {
      token: await clinicianToken(),
      variables: { id: chart.patientId },
    });
    expect(response.body.errors).toBeUndefined();
    const { root, spans, under } = await requestTrace();

    expect(root.name).toBe('POST /graphql');
    expect(root.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/graphql',
      'url.path': '/graphql',
      'http.response.status_code': 200,
    });
    const traceId = root.spanContext().traceId;
    expect(spans.every((span) => span.spanContext().traceId === traceId)).toBe(true);

    // An ad hoc document's name is the client's own text: the span gives its type alone.
    const operation = spans.find((span) => span.name === 'query');
    expect(operation?.attributes['graphql.operation.type']).toBe('query');
    expect(operation?.attributes).not.toHaveProperty('graphql.operation.name');
    expect(parentOf(operation as ReadableSpan)).toBe(idOf(root));

    const sql = spans.filter((span) => span.attributes['db.system.name'] === 'postgresql');
    const selects = sql.filter((span) => span.attributes['db.operation.name'] === 'SELECT');
    expect(selects.map((span) => span.attributes['db.collection.name'])).toEqual(
      expect.arrayContaining(['patients', 'medical_records', 'studies', 'doctors']),
    );
    expect(selects.every((span) => under(operation as ReadableSpan, span))).toBe(true);

    const gets = spans.filter((span) => span.name === 'l2.get');
    expect(gets.length).toBeGreaterThan(0);
    const redis = server.l2.store.kind === 'redis';
    for (const get of gets) {
      if (redis)
        expect(get.attributes).toMatchObject({
          'db.system.name': 'redis',
          'db.operation.name': 'MGET',
        });
      expect(under(operation as ReadableSpan, get)).toBe(true);
      expect(get.attributes['caregraph.cache.layer']).toBe('l2');
      expect(get.attributes['db.operation.batch.size']).toBeGreaterThan(0);
      expect(typeof get.attributes['caregraph.cache.keys_found']).toBe('number');
    }
    // The chart's misses are written back: one MULTI under the same operation.
    expect(spans.some((span) => span.name === 'l2.set' && under(root, span))).toBe(true);

    const audit = spans.find((span) => span.name === 'audit.commit');
    expect(parentOf(audit as ReadableSpan)).toBe(idOf(root));
    expect(audit?.attributes['caregraph.audit.events']).toBeGreaterThan(0);
    const insert = sql.find((span) => span.attributes['db.collection.name'] === 'audit_events');
    expect(insert?.name).toBe('INSERT audit_events');
    expect(parentOf(insert as ReadableSpan)).toBe(idOf(audit as ReadableSpan));

    // No statement text, and no exception events (their message quotes the driver).
    expect(spans.some((span) => 'db.query.text' in span.attributes)).toBe(false);
    expect(spans.flatMap((span) => span.events)).toEqual([]);
  });

  it('counts what a warm chart found in L2 on its round trip', async () => {
    const token = await clinicianToken();
    await server.graphql(CHART_QUERY, { token, variables: { id: chart.patientId } });
    exporter.reset();
    await server.graphql(CHART_QUERY, { token, variables: { id: chart.patientId } });
    const { spans } = await requestTrace();
    const found = spans
      .filter((span) => span.name === 'l2.get')
      .reduce((n, span) => n + Number(span.attributes['caregraph.cache.keys_found']), 0);
    expect(found).toBeGreaterThan(0);
  });

  it('makes the request span a child of the span a traceparent header names', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    await server.graphql(CHART_QUERY, {
      token: await clinicianToken(),
      variables: { id: chart.patientId },
      headers: { traceparent: `00-${traceId}-${parentId}-01` },
    });
    const { root, spans } = await requestTrace();
    expect(root.spanContext().traceId).toBe(traceId);
    expect(root.parentSpanContext?.spanId).toBe(parentId);
    expect(root.parentSpanContext?.isRemote).toBe(true);
    expect(spans.length).toBeGreaterThan(3);
    expect(spans.every((span) => span.spanContext().traceId === traceId)).toBe(true);
  });

  it('gives each operation of a batch a span of its own, named for manifest operations', async () => {
    const mobileChart = MANIFEST.operations.find((op) => op.name === 'MobileChart');
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await clinicianToken()}`,
      },
      body: JSON.stringify([
        {
          variables: { id: chart.patientId },
          extensions: { persistedQuery: { version: 1, sha256Hash: mobileChart?.id } },
        },
        { query: 'query Departments { departments { name } }' },
      ]),
    });
    expect(response.status).toBe(200);
    const { root, spans } = await requestTrace();
    expect(spans.filter((span) => span.kind === SpanKind.SERVER)).toHaveLength(1);
    const operations = spans.filter((span) => span.name.startsWith('query'));
    expect(operations.map((span) => span.name).sort()).toEqual(['query', 'query MobileChart']);
    expect(operations.map((span) => span.attributes['graphql.operation.name'])).toContain(
      'MobileChart',
    );
    for (const operation of operations) expect(parentOf(operation)).toBe(idOf(root));
    expect(spans.filter((span) => span.name === 'audit.commit')).toHaveLength(1);
  });

  it('marks a failed statement with its SQLSTATE only', async () => {
    const doctorId = randomUUID();
    const response = await server.graphql(
      'mutation Add($p: ID!, $d: ID!) { addCareTeamMember(patientId: $p, doctorId: $d) { id } }',
      {
        token: await server.token({ role: 'frontdesk' }),
        variables: { p: chart.patientId, d: doctorId },
      },
    );
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const { root, spans } = await requestTrace();
    const failed = spans.find((span) => span.name === 'INSERT care_team');
    expect(failed?.status.code).toBe(2);
    expect(failed?.status.message).toBeUndefined();
    expect(failed?.attributes['error.type']).toBe('23503');
    expect(failed?.events).toEqual([]);
    const operation = spans.find((span) => span.name === 'mutation');
    expect(operation?.attributes['caregraph.graphql.error_codes']).toEqual(['BAD_USER_INPUT']);
    // The driver's message names the doctor's id; no span does.
    expect(JSON.stringify(spans.map(exportedSpan))).not.toContain(doctorId);
    expect(root.attributes['http.response.status_code']).toBe(200);
  });

  it('marks an audit commit that fails, and the 503 it answers', async () => {
    const { db } = server.database;
    // The audit table gone for a moment (this file's own database): its INSERT fails.
    await db.execute(sql`alter table audit_events rename to audit_events_away`);
    let response;
    try {
      response = await server.graphql(CHART_QUERY, {
        token: await clinicianToken(),
        variables: { id: chart.patientId },
      });
    } finally {
      await db.execute(sql`alter table audit_events_away rename to audit_events`);
    }
    expect(response.status).toBe(503);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('AUDIT_UNAVAILABLE');
    const { root, spans } = await requestTrace();
    const audit = spans.find((span) => span.name === 'audit.commit');
    expect(audit?.status).toEqual({ code: 2 });
    expect(audit?.attributes['error.type']).toMatch(/^[0-9A-Z]{5}$/);
    expect(audit?.events).toEqual([]);
    expect(root.status.code).toBe(2);
    expect(root.attributes).toMatchObject({
      'http.response.status_code': 503,
      'error.type': '503',
    });
  });

  it('traces a request refused before GraphQL runs', async () => {
    const response = await server.graphql('{ departments { name } }');
    expect(response.status).toBe(401);
    const { root, spans } = await requestTrace();
    expect(root.attributes['http.response.status_code']).toBe(401);
    expect(spans).toHaveLength(1);
  });
});

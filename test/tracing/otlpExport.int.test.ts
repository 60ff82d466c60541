import { trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { types } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { signToken } from '../../src/auth/tokens.js';
import { loadConfig } from '../../src/config.js';
import { createTracing, NO_TRACING } from '../../src/tracing/createTracing.js';
import { spawnServer } from '../support/spawnServer.js';
import { createTestDatabase } from '../support/testDatabase.js';
import { startTestServer } from '../support/testServer.js';

interface Export {
  readonly method: string | undefined;
  readonly url: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface OtlpBody {
  resourceSpans: Array<{
    resource: { attributes: Array<{ key: string; value: { stringValue?: string } }> };
    scopeSpans: Array<{ spans: Array<{ name: string; traceId: string }> }>;
  }>;
}

const run = inject('postgresRun');

/** A collector that accepts every OTLP/HTTP export and keeps it. */
async function startCollector(): Promise<{ server: Server; origin: string; exports: Export[] }> {
  const exports: Export[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      exports.push({ method: request.method, url: request.url, headers: request.headers, body });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `http://127.0.0.1:${port}`, exports };
}

describe('trace export', () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  beforeAll(async () => {
    collector = await startCollector();
  });
  afterAll(async () => {
    await new Promise((resolve) => collector.server.close(resolve));
  });

  it('sends the spans of `npm start` to OTEL_EXPORTER_OTLP_ENDPOINT as OTLP/HTTP JSON by the time it has stopped', async () => {
    const secret = randomBytes(24).toString('hex');
    let databaseUrl: string | undefined;
    if (run !== null) {
      const database = await createTestDatabase();
      databaseUrl = database.url;
      await database.close();
    }
    const server = await spawnServer({
      JWT_SECRET: secret,
      CACHE_KEY_PREFIX: `otlp${randomBytes(4).toString('hex')}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.origin,
      OTEL_EXPORTER_OTLP_HEADERS: 'x-collector-key=k%20v',
      OTEL_SERVICE_NAME: 'caregraph-otlp-test',
      ...(databaseUrl === undefined ? {} : { DATABASE_URL: databaseUrl }),
    });
    try {
      const token = await signToken(
        { sub: 'otlp', tenant: 't1', role: 'frontdesk' },
        loadConfig({ JWT_SECRET: secret }).jwt,
      );
      const response = await fetch(`${server.origin}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: '{ departments { name } }' }),
      });
      expect(response.status).toBe(200);
    } finally {
      await server.stop();
    }

    expect(collector.exports.length).toBeGreaterThan(0);
    for (const sent of collector.exports) {
      expect(sent.method).toBe('POST');
      expect(sent.url).toBe('/v1/traces');
      expect(sent.headers['content-type']).toBe('application/json');
      expect(sent.headers['x-collector-key']).toBe('k v');
    }
    const bodies = collector.exports.map((sent) => JSON.parse(sent.body) as OtlpBody);
    const resources = bodies.flatMap((body) => body.resourceSpans);
    const serviceNames = resources.map(
      (r) => r.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue,
    );
    expect(new Set(serviceNames)).toEqual(new Set(['caregraph-otlp-test']));
    const spans = resources.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    const request = spans.find((span) => span.name === 'POST /graphql');
    expect(request).toBeDefined();
    const sameTrace = spans.filter((span) => span.traceId === request?.traceId);
    expect(sameTrace.map((span) => span.name)).toEqual(
      expect.arrayContaining(['query', 'SELECT departments']),
    );
  }, 120_000);

  it('is off without an endpoint: no provider, no wrapper, no export', async () => {
    const before = collector.exports.length;
    const tracing = createTracing(loadConfig({ OTEL_SERVICE_NAME: 'unused' }).tracing);
    expect(tracing).toBe(NO_TRACING);
    const server = await startTestServer({}, undefined, { tracing });
    try {
      const token = await server.token({ role: 'frontdesk' });
      const response = await server.graphql('{ departments { name } }', { token });
      expect(response.status).toBe(200);
      // The driver is the one drizzle was given, unwrapped: tracing off costs nothing per statement.
      const { $client } = server.database.db as unknown as { $client: object };
      expect(types.isProxy($client)).toBe(false);
    } finally {
      await server.close();
    }
    await tracing.shutdown();
    expect(trace.getTracer('probe').startSpan('probe').isRecording()).toBe(false);
    expect(collector.exports.length).toBe(before);
  });

  it('never registers its provider as the global one, which dependencies could reach', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = createTracing(loadConfig({}).tracing, {
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    tracing.tracer.startSpan('own').end();
    trace.getTracer('a-dependency').startSpan('stray').end();
    expect(exporter.getFinishedSpans().map((span) => span.name)).toEqual(['own']);
    await tracing.shutdown();
  });
});

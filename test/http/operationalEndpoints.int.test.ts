import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/testServer.js';

describe('operational endpoints', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('reports liveness on /healthz', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('reports the database on /readyz', async () => {
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ready',
      checks: { database: 'up', cache: 'up', invalidations: 'up' },
    });
  });

  it('exposes Prometheus metrics with the contract names on /metrics', async () => {
    const token = await server.token({ role: 'admin' });
    await server.graphql('{ departments { name } }', { token });
    const response = await fetch(`${server.url}/metrics`);
    const text = await response.text();
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(text).toMatch(/caregraph_http_request_duration_seconds_bucket\{.*route="\/graphql".*\}/);
    expect(text).toMatch(/caregraph_db_queries_total\{table="departments"\} [1-9]/);
  });

  it('echoes a valid X-Request-Id and generates one otherwise', async () => {
    const given = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'req-123' } });
    expect(given.headers.get('x-request-id')).toBe('req-123');
    const generated = await fetch(`${server.url}/healthz`, {
      headers: { 'x-request-id': 'not a valid id!' },
    });
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('marks responses that never reached GraphQL no-store', async () => {
    const response = await server.graphql('{ departments { name } }');
    expect(response.status).toBe(401);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});

describe('shutdown', () => {
  it('finishes in-flight requests before closing', async () => {
    const count = 5;
    let arrived = 0;
    let allArrived: () => void = () => undefined;
    const arrival = new Promise<void>((resolve) => (allArrived = resolve));
    const server = await startTestServer({}, (app) => {
      // Each request announces itself, then lingers, so that all of them are in flight at close.
      app.addHook('preHandler', async (request) => {
        if (request.url !== '/graphql') return;
        if (++arrived === count) allArrived();
        await new Promise((resolve) => setTimeout(resolve, 200));
      });
    });
    const token = await server.token({ role: 'admin' });
    const inFlight = Array.from({ length: count }, () =>
      server.graphql('{ departments { name } }', { token }),
    );
    await arrival;
    await server.close();
    const responses = await Promise.all(inFlight);
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: count }, () => 200));
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORS_ALLOWED_HEADERS, CORS_MAX_AGE_SECONDS } from '../../src/http/cors.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const PORTAL = 'https://portal.example.org';
const DEV_PORTAL = 'http://localhost:5173';
const STRANGER = 'https://elsewhere.example.com';
const QUERY = '{ departments { id } }';

function preflight(server: TestServer, origin: string) {
  return fetch(`${server.url}/graphql`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    },
  });
}

function corsHeadersOf(response: { headers: Headers }): string[] {
  return [...response.headers.keys()].filter((name) => name.startsWith('access-control-'));
}

describe('CORS for the listed portal origins', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ CORS_ORIGINS: `${PORTAL}, ${DEV_PORTAL}` });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers a preflight from a listed origin 204, naming that origin', async () => {
    for (const origin of [PORTAL, DEV_PORTAL]) {
      const response = await preflight(server, origin);
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(origin);
      expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST');
      expect(response.headers.get('access-control-allow-headers')?.split(', ')).toEqual([
        ...CORS_ALLOWED_HEADERS,
      ]);
      expect(response.headers.get('access-control-max-age')).toBe(String(CORS_MAX_AGE_SECONDS));
      expect(response.headers.get('vary')).toMatch(/\borigin\b/i);
      // Bearer tokens, not cookies: no credentials are ever allowed.
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });

  it('gives any other origin no CORS header at all, preflight or not', async () => {
    const refused = await preflight(server, STRANGER);
    expect(refused.status).toBe(404);
    expect(corsHeadersOf(refused)).toEqual([]);
    const token = await server.token({ role: 'admin' });
    const answered = await server.graphql(QUERY, { token, headers: { origin: STRANGER } });
    expect(answered.status).toBe(200);
    expect(corsHeadersOf(answered)).toEqual([]);
  });

  it('names a listed origin on its requests, and lets it read the request id', async () => {
    const token = await server.token({ role: 'admin' });
    const response = await server.graphql(QUERY, { token, headers: { origin: PORTAL } });
    expect(response.status).toBe(200);
    expect(response.body.data).toHaveProperty('departments');
    expect(response.headers.get('access-control-allow-origin')).toBe(PORTAL);
    expect(response.headers.get('access-control-expose-headers')).toBe('x-request-id, retry-after');
    expect(response.headers.get('vary')).toMatch(/\borigin\b/i);
  });

  it('keeps both Origin and Accept in Vary on the explorer page', async () => {
    const page = await fetch(`${server.url}/graphql`, {
      headers: { accept: 'text/html', origin: PORTAL },
    });
    expect(page.status).toBe(200);
    expect(page.headers.get('vary')).toMatch(/origin.*accept/i);
  });

  it('runs no operation for a request a browser sends cross-origin without a preflight', async () => {
    // A "simple" request carries no Authorization header, and only a form or text body.
    const query = encodeURIComponent(QUERY);
    const simpleGet = await fetch(`${server.url}/graphql?query=${query}`, {
      headers: { origin: PORTAL },
    });
    expect(simpleGet.status).toBe(401);
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded']) {
      const simplePost = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { origin: PORTAL, 'content-type': contentType },
        body: JSON.stringify({ query: QUERY }),
      });
      expect(simplePost.status).toBe(415);
    }
    // The token needs a preflight, which lists Authorization among the headers it allows.
    const allowed = (await preflight(server, PORTAL)).headers.get('access-control-allow-headers');
    expect(allowed?.split(', ')).toContain('authorization');
  });
});

describe('CORS when CORS_ORIGINS is unset', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers no preflight and names no origin', async () => {
    const refused = await preflight(server, PORTAL);
    expect(refused.status).toBe(404);
    expect(corsHeadersOf(refused)).toEqual([]);
    const token = await server.token({ role: 'admin' });
    const answered = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: {
        origin: PORTAL,
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ query: QUERY }),
    });
    expect(answered.status).toBe(200);
    expect(corsHeadersOf(answered)).toEqual([]);
  });
});

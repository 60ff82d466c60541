import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPLORER_CSP } from '../../src/http/explorer/page.js';
import { startTestServer, type TestServer } from '../support/testServer.js';
import { productionEnv } from './production.js';

/** What Chromium sends when the address bar opens a page. */
const BROWSER_ACCEPT =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8';

function openInBrowser(server: TestServer, path = '/graphql') {
  return fetch(`${server.url}${path}`, { headers: { accept: BROWSER_ACCEPT } });
}

/** The page's script and stylesheet, as the page names them. */
function assetsOf(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="(\/graphql\/explorer\/[^"]+)"/g)].map(
    (match) => match[1] ?? '',
  );
}

describe('the explorer page over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves a browser the explorer page without a token, under a strict CSP', async () => {
    const response = await openInBrowser(server);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(EXPLORER_CSP);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('vary')).toMatch(/accept/i);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await response.text();
    expect(html).toContain('<div id="explorer"></div>');
    expect(html).toContain('Authorization');
    // Nothing on the page itself runs: no inline script, no inline style, no other host.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)/);
    expect(html).not.toMatch(/<style|style="/);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('has a CSP that allows scripts, workers and requests from this server only', () => {
    const directives = new Map(
      EXPLORER_CSP.split(';').map((directive) => {
        const [name = '', ...sources] = directive.trim().split(/\s+/);
        return [name, sources] as const;
      }),
    );
    expect(directives.get('default-src')).toEqual(["'self'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('worker-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(EXPLORER_CSP).not.toMatch(/unsafe-eval|blob:|\*/);
  });

  it('serves the bundle it names, hashed and cacheable for good, under the same CSP', async () => {
    const html = await (await openInBrowser(server)).text();
    const assets = assetsOf(html);
    expect(assets).toHaveLength(2);
    for (const path of assets) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(response.headers.get('content-security-policy')).toBe(EXPLORER_CSP);
      expect(response.headers.get('content-type')).toMatch(/^text\/(javascript|css)/);
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(1000);
    }
  });

  it('answers 404 for a file the bundle does not hold', async () => {
    for (const path of ['/graphql/explorer/nope.js', '/graphql/explorer/..%2Fmanifest.json']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(404);
    }
  });

  it('still runs GraphQL over GET for JSON clients and for persisted queries', async () => {
    const token = await server.token({ role: 'admin' });
    const query = encodeURIComponent('{ departments { id } }');
    const asJson = await fetch(`${server.url}/graphql?query=${query}`, {
      headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    });
    expect(asJson.status).toBe(200);
    expect(((await asJson.json()) as { data: unknown }).data).toHaveProperty('departments');
    // A browser that follows a link with a query runs the query, as before (here: no token).
    const linked = await openInBrowser(server, `/graphql?query=${query}`);
    expect(linked.status).toBe(401);
    // A persisted query names its operation in `extensions` only.
    const extensions = encodeURIComponent(
      JSON.stringify({ persistedQuery: { version: 1, sha256Hash: 'f'.repeat(64) } }),
    );
    const persisted = await fetch(`${server.url}/graphql?extensions=${extensions}`, {
      headers: { authorization: `Bearer ${token}`, accept: BROWSER_ACCEPT },
    });
    expect(persisted.headers.get('content-type')).toMatch(/json/);
  });

  it("answers curl's GET without a token with 401 JSON, not the page", async () => {
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: '*/*' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toMatch(/json/);
  });
});

describe('the explorer when off', () => {
  const cases = [
    { name: 'in production by default', env: productionEnv() },
    { name: 'with EXPLORER=off', env: { EXPLORER: 'off' } },
  ];
  for (const { name, env } of cases) {
    it(`answers a browser with 401 JSON and serves no bundle, ${name}`, async () => {
      const server = await startTestServer(env);
      try {
        const response = await openInBrowser(server);
        expect(response.status).toBe(401);
        expect(response.headers.get('content-type')).toMatch(/^application\/json/);
        expect(response.headers.get('content-security-policy')).toBeNull();
        const token = await server.token({ role: 'admin' });
        const withToken = await fetch(`${server.url}/graphql`, {
          headers: { accept: BROWSER_ACCEPT, authorization: `Bearer ${token}` },
        });
        expect(withToken.status).toBe(400);
        expect(withToken.headers.get('content-type')).toMatch(/^application\/json/);
        const manifest = await fetch(`${server.url}/graphql/explorer/manifest.json`);
        expect(manifest.status).toBe(404);
      } finally {
        await server.close();
      }
    });
  }

  it('serves the page in production with EXPLORER=on', async () => {
    const server = await startTestServer({ ...productionEnv(), EXPLORER: 'on' });
    try {
      const response = await openInBrowser(server);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-security-policy')).toBe(EXPLORER_CSP);
      const [script] = assetsOf(await response.text());
      expect((await fetch(`${server.url}${script ?? ''}`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

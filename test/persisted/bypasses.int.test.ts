import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricValue } from '../support/metricValue.js';
import { seededPatient } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const manifest = JSON.parse(
  readFileSync(new URL('../../persisted-queries/manifest.json', import.meta.url), 'utf8'),
) as {
  operations: Array<{ id: string; name: string; body: string }>;
};
const doctorsOp = manifest.operations.find((op) => op.name === 'MobileDoctors');

/** A raw HTTP GET, sending the path exactly as given (fetch would drop a #fragment). */
function rawGet(
  url: string,
  path: string,
  token: string,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { hostname, port, path, method: 'GET', headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('persisted queries and limits, against attempts to get around them', () => {
  let server: TestServer;
  let only: TestServer;
  let admin: string;
  beforeAll(async () => {
    [server, only] = await Promise.all([
      startTestServer({ MAX_QUERY_LENGTH: '200000', MAX_BODY_BYTES: '1000000' }),
      startTestServer({ PERSISTED_QUERIES: 'only' }),
    ]);
    admin = await server.token({ role: 'admin' });
  });
  afterAll(async () => {
    await Promise.all([server.close(), only.close()]);
  });

  async function post(target: TestServer, body: unknown, headers: Record<string, string> = {}) {
    const started = performance.now();
    const response = await fetch(`${target.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}`, ...headers },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as {
      data?: unknown;
      errors?: Array<{ extensions?: { code?: string } }>;
    };
    return {
      status: response.status,
      json,
      code: json.errors?.[0]?.extensions?.code,
      ms: performance.now() - started,
    };
  }

  it('serves a manifest id over GET on a fresh server, and registers nothing for it', async () => {
    const sets = () =>
      metricValue(server.metrics.registry, 'caregraph_l2_round_trips_total', { op: 'set' });
    const before = await sets();
    const extensions = encodeURIComponent(
      JSON.stringify({ persistedQuery: { version: 1, sha256Hash: doctorsOp?.id } }),
    );
    const viaGet = await rawGet(server.url, `/graphql?extensions=${extensions}`, admin);
    expect(viaGet.status).toBe(200);
    expect((JSON.parse(viaGet.body) as { data: { doctors: unknown[] } }).data.doctors).toHaveLength(
      60,
    );
    await post(
      server,
      { extensions: { persistedQuery: { version: 1, sha256Hash: doctorsOp?.id } } },
      { 'apollographql-client-name': 'caregraph-ios' },
    );
    expect(await sets()).toBe(before);
  });

  it('reads a GET as Apollo does: a #fragment or a repeated parameter cannot smuggle text past only mode', async () => {
    const extensions = encodeURIComponent(
      JSON.stringify({ persistedQuery: { version: 1, sha256Hash: doctorsOp?.id } }),
    );
    const smuggled = await rawGet(
      only.url,
      `/graphql?query={departments{name}}#&query=x&extensions=${extensions}`,
      admin,
    );
    expect(smuggled.status).toBe(400);
    expect(smuggled.body).toContain('PERSISTED_QUERY_NOT_SUPPORTED');
    const repeated = await rawGet(
      only.url,
      `/graphql?extensions=${extensions}&query={departments{name}}&query=x`,
      admin,
    );
    expect(repeated.status).toBe(400);
    expect(repeated.body).not.toContain('"data"');
  });

  it('checks every operation of a batch for size, tokens and limits', async () => {
    const deep = `{ doctors { ${'department { doctors { '.repeat(20)}name${' } }'.repeat(20)} } }`;
    const batch = await post(server, [{ query: '{ departments { name } }' }, { query: deep }]);
    expect(batch).toMatchObject({ status: 400, code: 'QUERY_TOO_DEEP' });
    const tokens = await post(server, [{ query: `{ ${'__typename '.repeat(30_000)}}` }]);
    expect(tokens).toMatchObject({ status: 413, code: 'QUERY_TOO_LARGE' });
  });

  it('measures fragments once, so a doubling chain of spreads is refused at once', async () => {
    const chain = Array.from(
      { length: 40 },
      (_, i) => `fragment F${i} on Query { ...F${i + 1} ...F${i + 1} }`,
    ).join('\n');
    const result = await post(server, {
      query: `query { ...F0 }\n${chain}\nfragment F40 on Query { departments { name } }`,
    });
    expect(result).toMatchObject({ status: 400, code: 'QUERY_TOO_COSTLY' });
    expect(result.ms).toBeLessThan(1000);
  });

  it('cannot be poisoned by a spare operation, and counts variable defaults', async () => {
    const patient = await seededPatient(server.database.db, 't1', 1);
    const poisoned = await post(server, {
      query: `query A { patient(id: "${patient.patientId}") { records(first: 0) { ${'patient { records { '.repeat(10)} id ${'} } '.repeat(10)} } } }
              query B { departments { name } }`,
      operationName: 'B',
    });
    expect(poisoned).toMatchObject({ status: 400, code: 'QUERY_TOO_DEEP' });
    const defaults = await post(server, {
      query:
        'query ($n: Int = 100000) { patient(id: "x") { records(first: $n) { id diagnosis } } }',
    });
    expect(defaults).toMatchObject({ status: 400, code: 'QUERY_TOO_COSTLY' });
  });

  it('checks an automatic persisted query sent by hash alone against its new variables', async () => {
    const query = `query Costly($n: Int) { patient(id: "x") { records(first: $n) { id diagnosis } } } # ${Date.now()}`;
    const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
    expect((await post(server, { query, variables: { n: 1 }, extensions })).status).toBe(200);
    expect(await post(server, { variables: { n: 1_000_000 }, extensions })).toMatchObject({
      status: 400,
      code: 'QUERY_TOO_COSTLY',
    });
  });

  it('answers an upper-case hash sent with text, or another protocol version, with a coded error', async () => {
    const query = '{ departments { name } }';
    const upper = await post(server, {
      query,
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query).toUpperCase() } },
    });
    expect(upper).toMatchObject({ status: 400, code: 'PERSISTED_QUERY_HASH_MISMATCH' });
    const version = await post(server, {
      query,
      extensions: { persistedQuery: { version: 2, sha256Hash: sha256(query) } },
    });
    expect(version).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
  });

  it('lets introspection through the limits in development', async () => {
    const result = await post(server, {
      query:
        '{ __schema { types { name fields { name type { name ofType { name ofType { name ofType { name ofType { name } } } } } } } } }',
    });
    expect(result.status).toBe(200);
  });
});

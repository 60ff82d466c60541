import { buildSchema, parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTypeDefs } from '../../src/graphql/loadTypeDefs.js';
import { DEFAULT_LIST_SIZE, checkRequestLimits } from '../../src/http/requestLimits.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const schema = buildSchema(loadTypeDefs());
const limits = { maxDepth: 10, maxCost: 20_000, maxAliases: 30 };

describe('checkRequestLimits', () => {
  // patient: 1, records: 1, and 5 records x (id + diagnosis).
  it('weighs a list by its first argument, or by the default list size', () => {
    const withFirst = parse(
      'query ($n: Int) { patient(id: "x") { records(first: $n) { id diagnosis } } }',
    );
    expect(
      checkRequestLimits(schema, withFirst, { ...limits, maxCost: 2 + 2 * 5 }, { n: 5 }),
    ).toBeUndefined();
    expect(
      checkRequestLimits(schema, withFirst, { ...limits, maxCost: 2 + 2 * 5 - 1 }, { n: 5 })?.code,
    ).toBe('QUERY_TOO_COSTLY');
    const withoutFirst = parse('{ departments { id name } }');
    expect(
      checkRequestLimits(
        schema,
        withoutFirst,
        { ...limits, maxCost: 1 + 2 * DEFAULT_LIST_SIZE },
        undefined,
      ),
    ).toBeUndefined();
    expect(
      checkRequestLimits(
        schema,
        withoutFirst,
        { ...limits, maxCost: 2 * DEFAULT_LIST_SIZE },
        undefined,
      )?.code,
    ).toBe('QUERY_TOO_COSTLY');
  });

  it('counts depth and aliases through fragments', () => {
    const document = parse(`
      query { patient(id: "x") { ...P } }
      fragment P on Patient { primaryDoctor { department { doctors { department { name } } } } a: name b: name }`);
    expect(
      checkRequestLimits(schema, document, { ...limits, maxDepth: 6 }, undefined),
    ).toBeUndefined();
    expect(checkRequestLimits(schema, document, { ...limits, maxDepth: 5 }, undefined)?.code).toBe(
      'QUERY_TOO_DEEP',
    );
    expect(
      checkRequestLimits(schema, document, { ...limits, maxAliases: 1 }, undefined)?.code,
    ).toBe('TOO_MANY_ALIASES');
  });
});

describe('request limits over HTTP', () => {
  let server: TestServer;
  let token: string;
  beforeAll(async () => {
    server = await startTestServer();
    token = await server.token({ role: 'admin' });
  });
  afterAll(async () => {
    await server.close();
  });

  async function timed(body: unknown) {
    const started = performance.now();
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    return {
      status: response.status,
      code: json.errors?.[0]?.extensions?.code,
      ms: performance.now() - started,
    };
  }

  it('refuses a depth bomb with QUERY_TOO_DEEP, quickly', async () => {
    const nested = 'department { doctors { '.repeat(40) + 'name' + ' } }'.repeat(40);
    const result = await timed({ query: `{ doctors { ${nested} } }` });
    expect(result).toMatchObject({ status: 400, code: 'QUERY_TOO_DEEP' });
    expect(result.ms).toBeLessThan(1000);
  });

  it('refuses a cost bomb within the depth limit with QUERY_TOO_COSTLY', async () => {
    const query =
      '{ departments { doctors { department { doctors { department { doctors { name } } } } } } }';
    const result = await timed({ query });
    expect(result).toMatchObject({ status: 400, code: 'QUERY_TOO_COSTLY' });
  });

  it('refuses an alias bomb with TOO_MANY_ALIASES, quickly', async () => {
    const aliases = Array.from({ length: 5000 }, (_, i) => `a${i}: departments { name }`).join(' ');
    const result = await timed({ query: `{ ${aliases} }` });
    expect(result.status).toBe(413);
    const small = Array.from({ length: 40 }, (_, i) => `a${i}: __typename`).join(' ');
    const refused = await timed({ query: `{ ${small} }` });
    expect(refused).toMatchObject({ status: 400, code: 'TOO_MANY_ALIASES' });
    expect(refused.ms).toBeLessThan(1000);
  });

  it('refuses a batch bomb with BATCH_TOO_LARGE, and serves a small batch', async () => {
    const bomb = await timed(
      Array.from({ length: 500 }, () => ({ query: '{ departments { name } }' })),
    );
    expect(bomb).toMatchObject({ status: 400, code: 'BATCH_TOO_LARGE' });
    expect(bomb.ms).toBeLessThan(1000);
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify([
        { query: '{ departments { name } }' },
        { query: '{ doctors { name } }' },
      ]),
    });
    const results = (await response.json()) as Array<{ data: Record<string, unknown[]> }>;
    expect(results.map((r) => Object.keys(r.data))).toEqual([['departments'], ['doctors']]);
  });

  it('refuses a document over the size limit with QUERY_TOO_LARGE', async () => {
    const result = await timed({
      query: `{ departments { name } }${' '.repeat(server.config.maxQueryLength)}`,
    });
    expect(result).toMatchObject({ status: 413, code: 'QUERY_TOO_LARGE' });
  });
});

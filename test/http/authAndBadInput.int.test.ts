import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededPatient } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

function expectNoStack(body: unknown): void {
  const text = JSON.stringify(body);
  expect(text).not.toMatch(/stacktrace|\bat .+\.(ts|js):\d+/);
}

describe('authentication and bad input', () => {
  let server: TestServer;
  const query = '{ departments { name } }';

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers a missing token with 401 UNAUTHENTICATED', async () => {
    const response = await server.graphql(query);
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(response.body.data).toBeUndefined();
  });

  it('answers a GET without a token with 401 UNAUTHENTICATED, not a CSRF error', async () => {
    const response = await fetch(`${server.url}/graphql?query=${encodeURIComponent(query)}`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
  });

  it('answers a token signed with another secret with 401', async () => {
    const forged = await new SignJWT({ tenant: 't1', role: 'admin' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mallory')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('a-completely-different-secret-of-some-length'));
    const response = await server.graphql(query, { token: forged });
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('answers an unsigned (alg: none) token with 401', async () => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${encode({ alg: 'none' })}.${encode({ sub: 'x', tenant: 't1', role: 'admin', exp: 9999999999 })}.`;
    const response = await server.graphql(query, {
      headers: { authorization: `Bearer ${unsigned}` },
    });
    expect(response.status).toBe(401);
  });

  it('answers an expired token with 401', async () => {
    const expired = await server.token({
      role: 'admin',
      expiresIn: Math.floor(Date.now() / 1000) - 60,
    });
    const response = await server.graphql(query, { token: expired });
    expect(response.status).toBe(401);
    expect(response.body.errors?.[0]?.message).toBe('Token expired');
  });

  it('answers a token with an unknown role with 401', async () => {
    const token = await new SignJWT({ tenant: 't1', role: 'superuser' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setExpirationTime('1h')
      .sign(server.config.jwt.secret);
    const response = await server.graphql(query, { token });
    expect(response.status).toBe(401);
  });

  it('answers malformed JSON with 400 BAD_REQUEST and no stack', async () => {
    const token = await server.token({ role: 'admin' });
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{"query": "{ departments { name } }"',
    });
    const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(response.status).toBe(400);
    expect(body.errors[0]?.extensions.code).toBe('BAD_REQUEST');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expectNoStack(body);
  });

  it('answers a body that is not JSON with 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    const token = await server.token({ role: 'admin' });
    for (const contentType of ['application/xml', 'text/plain']) {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
        body: '{ departments { name } }',
      });
      const body = (await response.json()) as { errors: Array<{ extensions: { code: string } }> };
      expect(response.status).toBe(415);
      expect(body.errors[0]?.extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    }
  });

  it('answers mutations naming malformed ids with NOT_FOUND, and empty changes with BAD_USER_INPUT', async () => {
    const frontdesk = await server.token({ role: 'frontdesk' });
    const admin = await server.token({ role: 'admin' });
    const notFound = await Promise.all([
      server.graphql(
        'mutation { updatePatient(id: "Jane Doe", input: { name: "Jane Q. Doe" }) { id } }',
        {
          token: frontdesk,
        },
      ),
      server.graphql('mutation { setConsent(patientId: "x", granted: false) { id } }', {
        token: frontdesk,
      }),
      server.graphql('mutation { updateDoctor(id: "1", input: { title: "MD" }) { id } }', {
        token: admin,
      }),
    ]);
    for (const response of notFound) {
      expect(response.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(JSON.stringify(response.body)).not.toContain('Jane');
    }
    const t1 = await seededPatient(server.database.db);
    const empty = await server.graphql(
      'mutation ($id: ID!) { updatePatient(id: $id, input: {}) { id } }',
      {
        token: frontdesk,
        variables: { id: t1.patientId },
      },
    );
    expect(empty.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('answers an unknown field with GRAPHQL_VALIDATION_FAILED', async () => {
    const token = await server.token({ role: 'admin' });
    const response = await server.graphql('{ departments { name socialSecurityNumber } }', {
      token,
    });
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expectNoStack(response.body);
  });

  it('answers a wrong variable type with BAD_USER_INPUT, without echoing the value', async () => {
    const token = await server.token({ role: 'frontdesk' });
    const response = await server.graphql(
      'query ($first: Int) { patients(search: "ab", first: $first) { id } }',
      {
        token,
        variables: { first: 'Jane Doe' },
      },
    );
    expect(response.status).toBe(400);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(JSON.stringify(response.body)).not.toContain('Jane Doe');
    expectNoStack(response.body);
  });

  it('answers an over-long query with 413 QUERY_TOO_LARGE', async () => {
    const token = await server.token({ role: 'admin' });
    const padding = ' '.repeat(server.config.maxQueryLength + 1);
    const response = await server.graphql(`{ departments { name } }${padding}`, { token });
    expect(response.status).toBe(413);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('QUERY_TOO_LARGE');
  });

  it('answers an oversized body with 413 PAYLOAD_TOO_LARGE', async () => {
    const token = await server.token({ role: 'admin' });
    const response = await server.graphql('{ departments { name } }', {
      token,
      variables: { blob: 'x'.repeat(server.config.maxBodyBytes) },
    });
    expect(response.status).toBe(413);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers a syntax error with GRAPHQL_PARSE_FAILED', async () => {
    const token = await server.token({ role: 'admin' });
    const response = await server.graphql('{ departments { name }', { token });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
  });

  it('answers an invalid argument with BAD_USER_INPUT naming the argument, not the value', async () => {
    const t1 = await seededPatient(server.database.db);
    const token = await server.token({ role: 'frontdesk' });
    const response = await server.graphql(
      'mutation ($id: ID!) { updatePatient(id: $id, input: { phone: "call me maybe" }) { id } }',
      { token, variables: { id: t1.patientId } },
    );
    expect(response.body.errors?.[0]?.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      argumentName: 'input.phone',
    });
    expect(response.body.errors?.[0]?.message).not.toContain('call me maybe');
  });

  it('serves GET /graphql as well as POST', async () => {
    const token = await server.token({ role: 'admin' });
    const response = await fetch(`${server.url}/graphql?query=${encodeURIComponent(query)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await response.json()) as { data: { departments: unknown[] } };
    expect(response.status).toBe(200);
    expect(body.data.departments).toHaveLength(10);
  });

  it('answers an unknown path with 404 NOT_FOUND', async () => {
    const response = await fetch(`${server.url}/nope`);
    expect(response.status).toBe(404);
    expect(
      ((await response.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]
        ?.extensions.code,
    ).toBe('NOT_FOUND');
  });
});

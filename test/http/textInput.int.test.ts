import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { startTestServer, type GraphQLResponse, type TestServer } from '../support/testServer.js';

const canary = () => `CANARY${randomBytes(6).toString('hex')}`;
const SEARCH = 'query ($s: String!) { patients(search: $s) { id } }';

describe('textInputPlugin', () => {
  let server: TestServer;
  let patient: SeededPatient;
  let frontdesk: string;

  beforeAll(async () => {
    server = await startTestServer();
    patient = await seededPatient(server.database.db, 't1', 1);
    frontdesk = await server.token({ role: 'frontdesk' });
  });
  afterAll(async () => {
    await server.close();
  });

  /** Sends a request that must be refused, and returns the refusal and the SQL it cost. */
  async function refused(query: string, variables?: Record<string, unknown>) {
    const before = server.statements();
    const response = await server.graphql(query, { token: frontdesk, variables });
    return { response, statements: server.statements() - before };
  }

  function expectRefusal(
    { response, statements }: { response: GraphQLResponse; statements: number },
    argumentName: string,
    value: string,
  ): void {
    expect(response.status).toBe(400);
    expect(response.body.data).toBeUndefined();
    expect(response.body.errors).toHaveLength(1);
    const [error] = response.body.errors ?? [];
    expect(error?.extensions).toEqual({ code: 'BAD_USER_INPUT', argumentName });
    expect(error?.message).toContain(argumentName);
    expect(error?.message).not.toContain(value);
    expect(statements).toBe(0);
  }

  it('refuses a NUL byte in a variable, naming the variable', async () => {
    const value = canary();
    expectRefusal(await refused(SEARCH, { s: `${value}\u0000` }), '$s', value);
  });

  it('refuses a NUL byte in an inline literal of a fragment the operation spreads', async () => {
    const value = canary();
    const query = `query { ...Found } fragment Found on Query { patients(search: "${value}\\u0000") { id } }`;
    expectRefusal(await refused(query), 'search', value);
    // The second time the document comes parsed from Apollo's store, and is refused the same.
    expectRefusal(await refused(query), 'search', value);
  });

  it('refuses a NUL byte in a nested input object literal and in a default value', async () => {
    const value = canary();
    expectRefusal(
      await refused(
        `mutation ($id: ID!) { updatePatient(id: $id, input: { name: "${value}\\u0000" }) { id } }`,
        { id: patient.patientId },
      ),
      'input.name',
      value,
    );
    expectRefusal(
      await refused(`query ($s: String = "${value}\\u0000") { patients(search: $s) { id } }`),
      '$s',
      value,
    );
  });

  it('refuses NUL anywhere in the variables: nested, in lists, in keys, in unused variables', async () => {
    const value = canary();
    const update =
      'mutation ($id: ID!, $input: UpdatePatientInput!) { updatePatient(id: $id, input: $input) { id } }';
    expectRefusal(
      await refused(update, { id: patient.patientId, input: { name: `${value}\u0000` } }),
      '$input.name',
      value,
    );
    expectRefusal(
      await refused(update, { id: `${patient.patientId}\u0000`, input: { name: 'Ok Name' } }),
      '$id',
      value,
    );
    expectRefusal(
      await refused(SEARCH, { s: 'ok', unused: [{ deep: ['a', `${value}\u0000`] }] }),
      '$unused[0].deep[1]',
      value,
    );
    expectRefusal(
      await refused(update, { id: patient.patientId, input: { [`${value}\u0000`]: 'x' } }),
      '$input',
      value,
    );
  });

  it('refuses lone surrogates, which Postgres would store as U+FFFD, and keeps real pairs', async () => {
    const value = canary();
    for (const spoiled of [`${value}\uD800`, `\uDC00${value}`, `${value}\uDC00\uD83D`]) {
      expectRefusal(await refused(SEARCH, { s: spoiled }), '$s', value);
    }
    const fine = await server.graphql(SEARCH, {
      token: frontdesk,
      variables: { s: 'Zoë 😀\u200b\uFEFF\u0085 𝔘' },
    });
    expect(fine.status).toBe(200);
    expect(fine.body.errors).toBeUndefined();
  });

  it('refuses a lone surrogate written into the document as a parse failure, before any SQL', async () => {
    const before = server.statements();
    for (const literal of ['"\uD800"', '"\\uD800"']) {
      const response = await server.graphql(`{ patients(search: ${literal}) { id } }`, {
        token: frontdesk,
      });
      expect(response.status).toBe(400);
      expect(response.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    }
    expect(server.statements()).toBe(before);
  });

  it('checks deep and wide variables in time linear in their size, without recursion', async () => {
    // Written by hand: JSON.stringify itself would overflow the stack at this depth.
    const depth = 20_000;
    const deep = `${'['.repeat(depth)}${JSON.stringify(`${canary()}\u0000`)}${']'.repeat(depth)}`;
    const wide = JSON.stringify(
      Array.from({ length: 20_000 }, (_, i) => (i === 19_999 ? 'x\u0000' : 'ok')),
    );
    const before = server.statements();
    const started = performance.now();
    const answers = [];
    for (const [name, json] of [
      ['deep', deep],
      ['wide', wide],
    ] as const) {
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${frontdesk}` },
        body: `{"query":${JSON.stringify(SEARCH)},"variables":{"s":"ok","${name}":${json}}}`,
      });
      answers.push({
        status: response.status,
        body: (await response.json()) as GraphQLResponse['body'],
      });
    }
    expect(performance.now() - started).toBeLessThan(2_000);
    const names = answers.map((a) => a.body.errors?.[0]?.extensions?.argumentName);
    expect(answers.map((a) => a.status)).toEqual([400, 400]);
    expect(names).toEqual(['$deep[0][0][0][0][0][0][0]…', '$wide[19999]']);
    expect(server.statements()).toBe(before);
  });

  it('refuses the spoiled operation of a batch and answers the others', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${frontdesk}` },
      body: JSON.stringify([
        { query: '{ departments { id } }' },
        { query: SEARCH, variables: { s: `${canary()}\u0000` } },
      ]),
    });
    const body = (await response.json()) as GraphQLResponse['body'][];
    expect(body[0]?.errors).toBeUndefined();
    expect(body[1]?.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

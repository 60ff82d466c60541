import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { linesOf, loggedServer } from '../support/loggedServer.js';
import { waitFor } from '../support/waitFor.js';

describe('the request log of a failing database', () => {
  it('holds the error code of a driver failure and nothing of its parameters', async () => {
    const { server, output } = await loggedServer();
    const token = await server.token({ role: 'frontdesk' });
    await server.database.close();
    const term = `CANARY${randomBytes(6).toString('hex')}`;
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        'x-request-id': 'db-down',
      },
      body: JSON.stringify({
        query: 'query Find($term: String!) { patients(search: $term) { id } }',
        variables: { term },
      }),
    });
    await response.text();
    const line = await waitFor('the request line', () =>
      linesOf(output()).find((l) => l.reqId === 'db-down' && l.msg === 'request completed'),
    );
    await server.app.close();
    expect(line).toMatchObject({
      status: 503,
      errors: ['DATABASE_UNAVAILABLE'],
      operation: 'Find',
    });
    expect(output()).toMatch(/"level":40/);
    expect(output()).not.toContain(term);
  });
});

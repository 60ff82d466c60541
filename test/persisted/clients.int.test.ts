import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ApolloClient, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';
import { generatePersistedQueryIdsFromManifest } from '@apollo/persisted-query-lists';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const manifest = JSON.parse(
  readFileSync(new URL('../../persisted-queries/manifest.json', import.meta.url), 'utf8'),
) as {
  operations: Array<{ id: string; name: string; body: string }>;
};

interface Exchange {
  method: string;
  sentQuery: boolean;
  hash: string | undefined;
  status: number;
  codes: unknown[];
}

/** A fetch that records what a real client sends and what it gets back. */
function recordingFetch(log: Exchange[]): typeof fetch {
  return async (input, init) => {
    const url = new URL(
      typeof input === 'string' ? input : input instanceof URL ? input.href : input.url,
    );
    const body =
      typeof init?.body === 'string'
        ? (JSON.parse(init.body) as Record<string, unknown>)
        : undefined;
    const extensions: unknown =
      body?.extensions ?? JSON.parse(url.searchParams.get('extensions') ?? 'null');
    const response = await fetch(input, init);
    const copy = (await response.clone().json()) as {
      errors?: Array<{ extensions?: { code?: unknown } }>;
    };
    log.push({
      method: init?.method ?? 'GET',
      sentQuery: typeof body?.query === 'string' || url.searchParams.has('query'),
      hash: (extensions as { persistedQuery?: { sha256Hash?: string } } | null)?.persistedQuery
        ?.sha256Hash,
      status: response.status,
      codes: copy.errors?.map((e) => e.extensions?.code) ?? [],
    });
    return response;
  };
}

describe('persisted queries with real Apollo clients', () => {
  let server: TestServer;
  let patient: SeededPatient;
  let clinician: string;
  beforeAll(async () => {
    server = await startTestServer();
    patient = await seededPatient(server.database.db, 't1', 2);
    clinician = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
  });
  afterAll(async () => {
    await server.close();
  });

  it('speaks APQ with @apollo/client: a miss, a registration, then a hit over GET', async () => {
    const log: Exchange[] = [];
    const client = () =>
      new ApolloClient({
        cache: new InMemoryCache(),
        link: new PersistedQueryLink({ sha256, useGETForHashedQueries: true }).concat(
          new HttpLink({
            uri: `${server.url}/graphql`,
            headers: { authorization: `Bearer ${clinician}` },
            fetch: recordingFetch(log),
          }),
        ),
      });
    const query = gql`
      query PortalPatient($id: ID!) {
        patient(id: $id) {
          id
          name
        }
      }
    `;
    const first = await client().query({ query, variables: { id: patient.patientId } });
    const second = await client().query({ query, variables: { id: patient.patientId } });
    expect(first.data).toEqual(second.data);
    expect(log.map((e) => [e.method, e.sentQuery, e.status, e.codes])).toEqual([
      ['GET', false, 200, ['PERSISTED_QUERY_NOT_FOUND']],
      ['POST', true, 200, []],
      ['GET', false, 200, []],
    ]);
    expect(new Set(log.map((e) => e.hash)).size).toBe(1);
  });

  it('runs manifest operations by id with @apollo/persisted-query-lists, registering nothing', async () => {
    const log: Exchange[] = [];
    const client = new ApolloClient({
      cache: new InMemoryCache(),
      link: new PersistedQueryLink(
        generatePersistedQueryIdsFromManifest({ loadManifest: () => Promise.resolve(manifest) }),
      ).concat(
        new HttpLink({
          uri: `${server.url}/graphql`,
          headers: {
            authorization: `Bearer ${clinician}`,
            'apollographql-client-name': 'caregraph-ios',
          },
          fetch: recordingFetch(log),
        }),
      ),
    });
    const result = await client.query({
      query: gql(
        readFileSync(new URL('../../clients/mobile/chart.graphql', import.meta.url), 'utf8'),
      ),
      variables: { id: patient.patientId },
    });
    expect((result.data as { patient: { id: string } }).patient.id).toBe(patient.patientId);
    const chart = manifest.operations.find((op) => op.name === 'MobileChart');
    expect(log).toEqual([
      { method: 'POST', sentQuery: false, hash: chart?.id, status: 200, codes: [] },
    ]);
  });

  async function post(body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${clinician}`,
        ...headers,
      },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as {
        data?: unknown;
        errors?: Array<{ extensions?: { code?: string } }>;
      },
    };
  }

  it('refuses raw text from a mobile client, and accepts it from a portal', async () => {
    const query = 'query ($id: ID!) { patient(id: $id) { name } }';
    const mobile = await post(
      { query, variables: { id: patient.patientId } },
      { 'apollographql-client-name': 'caregraph-android' },
    );
    expect(mobile.status).toBe(400);
    expect(mobile.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
    const unknownHash = await post(
      {
        variables: { id: patient.patientId },
        extensions: { persistedQuery: { version: 1, sha256Hash: sha256(query) } },
      },
      { 'apollographql-client-name': 'caregraph-android' },
    );
    expect(unknownHash.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
    const portal = await post(
      { query, variables: { id: patient.patientId } },
      { 'apollographql-client-name': 'clinician-portal' },
    );
    expect(portal.status).toBe(200);
  });

  it('answers an unknown hash with PERSISTED_QUERY_NOT_FOUND and a wrong one with PERSISTED_QUERY_HASH_MISMATCH', async () => {
    const query = '{ departments { name } }';
    const unknown = await post({
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256(`${query} `) } },
    });
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const wrong = await post({
      query,
      extensions: { persistedQuery: { version: 1, sha256Hash: sha256('something else') } },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_HASH_MISMATCH');
  });

  it('serves a persisted query over GET with the same data and headers as over POST', async () => {
    const chart = manifest.operations.find((op) => op.name === 'MobileChart');
    const extensions = { persistedQuery: { version: 1, sha256Hash: chart?.id } };
    const variables = { id: patient.patientId };
    const viaPost = await post(
      { variables, extensions },
      { 'apollographql-client-name': 'caregraph-ios' },
    );
    const url = new URL(`${server.url}/graphql`);
    url.searchParams.set('variables', JSON.stringify(variables));
    url.searchParams.set('extensions', JSON.stringify(extensions));
    const viaGet = await fetch(url, {
      headers: {
        authorization: `Bearer ${clinician}`,
        'apollographql-client-name': 'caregraph-ios',
      },
    });
    expect(viaGet.status).toBe(200);
    expect(await viaGet.json()).toEqual(viaPost.body);
    expect(viaGet.headers.get('cache-control')).toBe(viaPost.headers.get('cache-control'));
    expect(viaGet.headers.get('cache-control')).toBe(
      'no-store, no-cache, must-revalidate, max-age=30',
    );
  });
});

describe('PERSISTED_QUERIES=only', () => {
  it('refuses raw text from every client', async () => {
    const server = await startTestServer({ PERSISTED_QUERIES: 'only' });
    try {
      const token = await server.token({ role: 'admin' });
      const raw = await server.graphql('{ departments { name } }', { token });
      expect(raw.status).toBe(400);
      expect(raw.body.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_SUPPORTED');
      const doctors = manifest.operations.find((op) => op.name === 'MobileDoctors');
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          extensions: { persistedQuery: { version: 1, sha256Hash: doctors?.id } },
        }),
      });
      expect(response.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

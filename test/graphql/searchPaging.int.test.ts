import { asc, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { doctors, patients } from '../../src/db/tables/index.js';
import { metricValue } from '../support/metricValue.js';
import { queryRows } from '../support/queryRows.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

/**
 * Matches of one term in t1, in the order a search sorts them (by name), with who may read
 * each: consent-withheld patients and patients off the clinician's care team sort between
 * readable ones, so a filter after the LIMIT would show up as a short page.
 */
const MATCHES = [
  { name: 'Ada Quillfeather', onTeam: true, consents: true },
  { name: 'Bea Quillfeather', onTeam: true, consents: false },
  { name: 'Cal Quillfeather', onTeam: false, consents: true },
  { name: 'Dov Quillfeather', onTeam: true, consents: false },
  { name: 'Eli Quillfeather', onTeam: true, consents: false },
  { name: 'Fay QUILLFEATHER', onTeam: true, consents: true },
  { name: 'Gus Quillfeather', onTeam: false, consents: false },
  { name: 'Hal QuillFeather-Smith', onTeam: true, consents: true },
  { name: 'Ivy Quillfeather', onTeam: true, consents: false },
  { name: 'Jo Quillfeather', onTeam: true, consents: true },
  { name: 'Kit Quillfeather', onTeam: false, consents: true },
] as const;
type Match = (typeof MATCHES)[number] & { id: string };

const REASON = { 'x-break-glass': 'Unconscious in the emergency department, no next of kin' };
const L2_HITS = [
  'caregraph_cache_requests_total',
  { layer: 'l2', type: '[Patient]', result: 'hit' },
] as const;

describe('patients(search) paging', () => {
  let server: TestServer;
  let matches: Match[];
  let doctorId: string;

  beforeAll(async () => {
    server = await startTestServer();
    const db = server.database.db;
    const chosen = await db
      .select({ id: patients.id })
      .from(patients)
      .where(eq(patients.tenantId, 't1'))
      .orderBy(asc(patients.mrn))
      .limit(MATCHES.length);
    const [doctor] = await db
      .select({ id: doctors.id })
      .from(doctors)
      .where(eq(doctors.tenantId, 't1'))
      .limit(1);
    if (doctor === undefined || chosen.length < MATCHES.length) throw new Error('seed');
    doctorId = doctor.id;
    matches = MATCHES.map((m, i) => ({ ...m, id: chosen[i]?.id ?? '' }));
    for (const m of matches) {
      await queryRows(
        db,
        sql`update patients set name = ${m.name}, consent_granted = ${m.consents} where id = ${m.id}`,
      );
      await queryRows(
        db,
        sql`delete from care_team where patient_id = ${m.id} and doctor_id = ${doctorId}`,
      );
      if (m.onTeam)
        await queryRows(
          db,
          sql`insert into care_team (tenant_id, patient_id, doctor_id) values ('t1', ${m.id}, ${doctorId})`,
        );
    }
    // A match of another tenant, sorting first and consenting: never on a t1 page.
    await queryRows(
      db,
      sql`update patients set name = 'Abe Quillfeather' where id = (select id from patients where tenant_id = 't2' order by mrn limit 1)`,
    );
    const [{ count } = { count: 0 }] = await queryRows<{ count: number }>(
      db,
      sql`select count(*)::int as count from patients where tenant_id = 't1' and lower(name) like '%quillfeather%'`,
    );
    expect(count).toBe(MATCHES.length);
    // So would a first burst that races the Redis client's first connect (it refuses
    // commands while offline) or the creation of the tenant's search generation (entries
    // written under the losing value are never read): one cached search settles both.
    await server.graphql('{ patients(search: "quillfeather", first: 100) { id } }', {
      token: await server.token({ role: 'frontdesk' }),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  async function search(
    token: string,
    first: number,
    options: { q?: string; headers?: Record<string, string> } = {},
  ) {
    const response = await server.graphql(
      'query ($q: String!, $first: Int) { patients(search: $q, first: $first) { id name } }',
      {
        token,
        variables: { q: options.q ?? 'quillfeather', first },
        headers: options.headers,
      },
    );
    expect(response.body.errors).toBeUndefined();
    return (response.body.data?.patients as Array<{ id: string }>).map((p) => p.id);
  }

  const idsOf = (readable: (m: Match) => boolean) => matches.filter(readable).map((m) => m.id);

  /** first: k for every k up to one past the readable matches, all at once as real traffic does. */
  async function pages(
    token: string,
    options: { q?: string; headers?: Record<string, string> },
    n: number,
  ) {
    const ks = Array.from({ length: n + 1 }, (_, i) => i + 1);
    return Promise.all(ks.map((k) => search(token, k, options)));
  }

  function expectFullPages(got: string[][], readable: string[]) {
    got.forEach((page, i) => {
      // first: k holds exactly the first k readable matches, so a page is full whenever k
      // readable matches exist, and each page is a prefix of the next.
      expect(page).toEqual(readable.slice(0, i + 1));
      if (i > 0) expect(page.slice(0, i)).toEqual(got[i - 1]);
    });
  }

  const roles = [
    {
      who: 'front desk',
      readable: (m: Match) => m.consents,
      token: () => server.token({ role: 'frontdesk' }),
    },
    {
      who: 'clinician',
      readable: (m: Match) => m.onTeam && m.consents,
      token: () => server.token({ role: 'clinician', doctorId }),
    },
  ] as const;

  for (const role of roles) {
    it(`returns k rows whenever k readable matches exist, for the ${role.who}, cold and warm`, async () => {
      const token = await role.token();
      const readable = idsOf(role.readable);
      expect(readable.length).toBeGreaterThanOrEqual(4);
      expectFullPages(await pages(token, {}, readable.length), readable);
      const hits = await metricValue(server.metrics.registry, ...L2_HITS);
      // Warm: every page is now an L2 hit, and still full. Other spellings share the entries.
      for (const q of ['quillfeather', ' QUILLFEATHER ', 'QuillFeather']) {
        expectFullPages(await pages(token, { q }, readable.length), readable);
      }
      expect((await metricValue(server.metrics.registry, ...L2_HITS)) - hits).toBe(
        3 * (readable.length + 1),
      );
      expect(await search(token, 100)).toEqual(readable);
    });

    it(`fills every page of one document for the ${role.who}`, async () => {
      const token = await role.token();
      const readable = idsOf(role.readable);
      const ks = Array.from({ length: readable.length + 1 }, (_, i) => i + 1);
      const response = await server.graphql(
        `query ($q: String!) { ${ks.map((k) => `p${k}: patients(search: $q, first: ${k}) { id }`).join(' ')} }`,
        { token, variables: { q: 'Quillfeather' } },
      );
      expect(response.body.errors).toBeUndefined();
      const got = ks.map((k) =>
        (response.body.data?.[`p${k}`] as Array<{ id: string }>).map((p) => p.id),
      );
      expectFullPages(got, readable);
    });
  }

  it('fills break-glass pages from the care team whatever consent, and never caches them', async () => {
    const token = await server.token({ role: 'clinician', doctorId });
    const emergency = idsOf((m) => m.onTeam);
    const consented = idsOf((m) => m.onTeam && m.consents);
    // The plain searches are warm in L2 now; break-glass must not be served from them.
    await pages(token, {}, consented.length);
    expectFullPages(await pages(token, { headers: REASON }, emergency.length), emergency);
    const hits = await metricValue(server.metrics.registry, ...L2_HITS);
    expectFullPages(await pages(token, { headers: REASON }, emergency.length), emergency);
    expect(await metricValue(server.metrics.registry, ...L2_HITS)).toBe(hits);
    // And what break-glass found is never served without the header.
    expectFullPages(await pages(token, {}, consented.length), consented);
    expect(await search(token, 100)).toEqual(consented);
  });

  it('finds a patient who withheld consent when they search for themselves', async () => {
    const withheld = matches.find((m) => !m.consents);
    if (withheld === undefined) throw new Error('fixture');
    const token = await server.token({ role: 'patient', patientId: withheld.id });
    expect(await search(token, 1)).toEqual([withheld.id]);
    expect(await search(token, 1)).toEqual([withheld.id]);
  });
});

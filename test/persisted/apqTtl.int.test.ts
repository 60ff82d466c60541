import { createHash, randomBytes } from 'node:crypto';
import { createClient } from '@keyv/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCacheKey } from '../../src/cache/cacheKey.js';
import { PHI_MAX_AGE_CAP_SECONDS } from '../../src/policy/cachePolicy.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const redisUrl = process.env.REDIS_URL;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const CAP_MS = PHI_MAX_AGE_CAP_SECONDS * 1000;
const NAME = 'Amaya Weissnat';

// What Redis holds is the point here: PTTL needs a real one.
describe.runIf(redisUrl !== undefined)('apqCache registrations', () => {
  let server: TestServer;
  let redis: ReturnType<typeof createClient>;
  let admin: string;

  beforeAll(async () => {
    server = await startTestServer();
    redis = createClient({ url: redisUrl });
    await redis.connect();
    admin = await server.token({ role: 'admin' });
  });
  afterAll(async () => {
    await redis.quit();
    await server.close();
  });

  /** Registers a query over HTTP, as Apollo Client's second APQ request does, and reads its TTL. */
  async function registeredTtl(query: string): Promise<number> {
    const hash = sha256(query);
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({
        query,
        extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
      }),
    });
    expect(response.status, query).toBe(200);
    // Apollo registers without awaiting the write: the key may land just after the response.
    const key = buildCacheKey(server.l2.space, { kind: 'document', hash });
    for (let attempt = 0; attempt < 100; attempt++) {
      const ttl = await redis.pTTL(key);
      if (ttl !== -2) return ttl;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`never registered: ${query}`);
  }

  it('keeps a query whose text holds a name in a comment or a literal no longer than PHI', async () => {
    // A fresh token per run, so that every text is registered here, never found registered.
    const run = randomBytes(4).toString('hex');
    const queries = [
      `query Doctors${run} { doctors { name } } # ${NAME}`,
      `# ${NAME}\nquery Doctors${run} { doctors { name } }`,
      `query Doctors${run} { doctors { # ${NAME}\n name } }`,
      `query Doctors${run} { doctors { name } }\r\n#${NAME}`,
      `query Doctors${run} { doctors { name } } # a quote " does not end the comment ${NAME}`,
      `query Search${run} { patients(search: "${NAME}", first: 1) { id } }`,
      `query Search${run} { patients(search: "# ${NAME}", first: 1) { id } }`,
      `query Search${run} { patients(search: """# ${NAME}""", first: 1) { id } }`,
    ];
    // One first, alone, so that Redis is connected; then the rest at once, as clients would.
    const [first = '', ...rest] = queries;
    const ttls = [await registeredTtl(first), ...(await Promise.all(rest.map(registeredTtl)))];
    for (const [index, ttl] of ttls.entries()) {
      expect(ttl, queries[index]).toBeGreaterThan(0);
      expect(ttl, queries[index]).toBeLessThanOrEqual(CAP_MS);
    }
  });

  it('keeps a query without literals or comments for the APQ TTL since its last use', async () => {
    const query = `query Doctors${randomBytes(4).toString('hex')} { doctors { name title } }`;
    const ttl = await registeredTtl(query);
    expect(ttl).toBeGreaterThan(server.config.persistedQueries.apqTtlSeconds * 1000 - 60_000);
    expect(ttl).toBeLessThanOrEqual(server.config.persistedQueries.apqTtlSeconds * 1000);
  });
});

import { randomBytes } from 'node:crypto';
import { createClient } from '@keyv/redis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildCacheKey, type GenerationScope } from '../../src/cache/cacheKey.js';
import { deriveEntryPolicies } from '../../src/cache/entryPolicies.js';
import type { GuardedStore } from '../../src/cache/guardedStore.js';
import { encodeStoredValue } from '../../src/cache/redisStore.js';
import { createSealer } from '../../src/cache/sealer.js';
import { fetchEntityRows } from '../../src/db/entities.js';
import { createSchema } from '../../src/graphql/createSchema.js';
import { seededPatient, type SeededPatient } from '../support/fixtures.js';
import { metricValue } from '../support/metricValue.js';
import { startTestServer, type TestServer } from '../support/testServer.js';

const redisUrl = process.env.REDIS_URL;
const RESET_MS = 2_000;

/** Control values that are present but fail to open, as a bad deploy or a foreign writer leaves them. */
const GARBAGE: ReadonlyArray<{
  readonly name: string;
  /** The stored value for a key; `raw` values reach Redis exactly as given, not in the store's format. */
  readonly value: (server: TestServer, key: string) => string;
  readonly raw?: true;
}> = [
  { name: 'bytes that are not JSON', value: () => 'garbage\u0000\xff', raw: true },
  { name: 'an envelope that is not one', value: () => '{"kid":"x","iv":"","tag":""}' },
  {
    name: 'a sealed value copied from another key',
    value: (server, key) => server.l2.sealer.seal(`${key}:elsewhere`, 'AAAAAAAAAAAAAAAA'),
  },
  {
    name: 'a value sealed under an unknown key',
    value: (_, key) => createSealer([randomBytes(32)]).seal(key, 'AAAAAAAAAAAAAAAA'),
  },
  {
    name: 'a sealed value that is no token',
    value: (server, key) => server.l2.sealer.seal(key, ''),
  },
];

describe('l2Cache control values', () => {
  let server: TestServer;
  let patient: SeededPatient;
  let clinician: string;
  let admin: ReturnType<typeof createClient> | undefined;

  beforeAll(async () => {
    server = await startTestServer({ CACHE_BREAKER_RESET_MS: String(RESET_MS) });
    patient = await seededPatient(server.database.db, 't1', 7);
    clinician = await server.token({ role: 'clinician', doctorId: patient.careTeamDoctorId });
    if (redisUrl !== undefined) {
      admin = createClient({ url: redisUrl });
      await admin.connect();
    }
  });
  afterAll(async () => {
    await admin?.quit();
    await server.close();
  });
  // Each test starts from readable control values, whatever the one before it left.
  beforeEach(async () => {
    const keys = [epochKey(), generationKey({ kind: 'tenant' }), generationKey(patientScope())];
    const value = (key: string) =>
      server.l2.sealer.seal(key, randomBytes(12).toString('base64url'));
    await server.l2.store.setMany(keys.map((key) => ({ key, value: value(key), ttlMs: 60_000 })));
  });

  const epochKey = () => buildCacheKey(server.l2.space, { kind: 'epoch' });
  const generationKey = (scope: GenerationScope) =>
    buildCacheKey(server.l2.space, { kind: 'generation', tenantId: 't1', scope });
  const patientScope = () => ({ kind: 'patient', patientId: patient.patientId }) as const;
  const replaced = (kind: string) =>
    metricValue(server.metrics.registry, 'caregraph_cache_control_replaced_total', { kind });

  /** Stores a value under a key: in Redis by a client of its own, as another writer would. */
  async function plant(key: string, garbage: (typeof GARBAGE)[number]) {
    const value = garbage.value(server, key);
    if (admin === undefined) {
      await server.l2.store.setMany([{ key, value, ttlMs: 600_000 }]);
    } else {
      await admin.set(key, garbage.raw ? value : encodeStoredValue(value), { PX: 600_000 });
    }
  }

  async function readName() {
    const statements = server.statements();
    const response = await server.graphql('query ($id: ID!) { patient(id: $id) { name } }', {
      token: clinician,
      variables: { id: patient.patientId },
    });
    expect(response.body.errors).toBeUndefined();
    return {
      name: (response.body.data?.patient as { name: string }).name,
      statements: server.statements() - statements,
    };
  }

  /** Reads until a read takes no SQL; how long that took, or undefined past `withinMs`. */
  async function msUntilWarm(withinMs: number): Promise<number | undefined> {
    const started = performance.now();
    while (performance.now() - started < withinMs) {
      if ((await readName()).statements === 0) return performance.now() - started;
    }
    return undefined;
  }

  async function warm() {
    await readName();
    expect(await msUntilWarm(RESET_MS)).toBeDefined();
  }

  it.each(GARBAGE)(
    'replaces an epoch that fails to open ($name) and serves L2 hits again within the breaker reset',
    async (garbage) => {
      await warm();
      const before = await replaced('epoch');
      const errors = await metricValue(server.metrics.registry, 'caregraph_redis_errors_total');
      await plant(epochKey(), garbage);
      expect((await readName()).statements).toBeGreaterThan(0);
      expect(await msUntilWarm(server.config.cache.breakerResetMs)).toBeDefined();
      expect(await replaced('epoch')).toBe(before + 1);
      // A value that fails to open is the value's fault, never counted as Redis failing.
      expect(await metricValue(server.metrics.registry, 'caregraph_redis_errors_total')).toBe(
        errors,
      );
    },
  );

  // MGET reads a key of another type as absent, and SET NX can never replace it.
  it.runIf(redisUrl !== undefined).each([
    ['a hash', 'epoch'],
    ['a list', 'epoch'],
    ['a hash', 'tenant'],
    ['a set', 'patient'],
  ] as const)(
    'replaces a control key of another Redis type (%s, %s) and serves L2 hits again',
    async (type, which) => {
      await warm();
      const key =
        which === 'epoch'
          ? epochKey()
          : generationKey(which === 'tenant' ? { kind: 'tenant' } : patientScope());
      const kind = which === 'epoch' ? 'epoch' : 'generation';
      const before = await replaced(kind);
      const redis = admin as NonNullable<typeof admin>;
      await redis.del(key);
      if (type === 'a hash') await redis.hSet(key, 'a', 'b');
      else if (type === 'a list') await redis.rPush(key, 'a');
      else await redis.sAdd(key, 'a');
      expect((await readName()).statements).toBeGreaterThan(0);
      expect(await msUntilWarm(server.config.cache.breakerResetMs)).toBeDefined();
      expect(await redis.type(key)).toBe('string');
      expect(await replaced(kind)).toBe(before + 1);
    },
  );

  it.each(GARBAGE)(
    "replaces a patient's generation that fails to open ($name), under the PHI cap",
    async (garbage) => {
      await warm();
      const before = await replaced('generation');
      await plant(generationKey(patientScope()), garbage);
      expect((await readName()).statements).toBeGreaterThan(0);
      expect(await msUntilWarm(server.config.cache.breakerResetMs)).toBeDefined();
      expect(await replaced('generation')).toBe(before + 1);
      if (admin !== undefined) {
        const ttl = await admin.pTTL(generationKey(patientScope()));
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(300_000);
      }
    },
  );

  it("replaces a tenant's generation that fails to open", async () => {
    await warm();
    const before = await replaced('generation');
    await plant(generationKey({ kind: 'tenant' }), GARBAGE[0] as (typeof GARBAGE)[number]);
    expect(await msUntilWarm(server.config.cache.breakerResetMs)).toBeDefined();
    expect(await replaced('generation')).toBe(before + 1);
  });

  it('replaces a garbage epoch once, however many requests find it at once', async () => {
    await warm();
    const before = await replaced('epoch');
    await plant(epochKey(), GARBAGE[0] as (typeof GARBAGE)[number]);
    const reads = await Promise.all(Array.from({ length: 12 }, () => readName()));
    expect(reads.every((read) => read.statements > 0)).toBe(true);
    expect(await msUntilWarm(server.config.cache.breakerResetMs)).toBeDefined();
    expect(await replaced('epoch')).toBe(before + 1);
  });

  it('does not replace again for a read that left before the replacement landed', async () => {
    await warm();
    const before = await replaced('epoch');
    await plant(epochKey(), GARBAGE[1] as (typeof GARBAGE)[number]);
    const key = buildCacheKey(server.l2.space, {
      kind: 'entity',
      tenantId: 't1',
      type: 'Patient',
      id: patient.patientId,
    });
    // A slow read: it has the garbage already, and answers only after the replacement.
    const store = server.l2.store as { getMany: GuardedStore['getMany'] };
    const getMany = store.getMany;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    store.getMany = async (keys) => {
      store.getMany = getMany;
      const values = await getMany(keys);
      await gate;
      return values;
    };
    const slow = server.l2.forRequest('t1').read([{ key, scope: patientScope() }]);
    await server.l2.forRequest('t1').read([{ key, scope: patientScope() }]);
    // The replacement lands: the epoch opens again.
    const landed = async () => {
      const [sealed] = (await server.l2.store.getMany([epochKey()])) ?? [];
      return sealed !== undefined && server.l2.sealer.open(epochKey(), sealed) !== undefined;
    };
    for (let i = 0; i < 200 && !(await landed()); i++) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await landed()).toBe(true);
    release();
    expect(await slow).toEqual([undefined]);
    expect(await msUntilWarm(server.config.cache.breakerResetMs)).toBeDefined();
    expect(await replaced('epoch')).toBe(before + 1);
  });

  it('never serves a stale row after a garbage generation raced with a write', async () => {
    const policy = deriveEntryPolicies(createSchema().policies).entities.get('Patient');
    if (policy === undefined) throw new Error('Patient has no cache policy');
    const frontdesk = await server.token({ role: 'frontdesk' });
    const rename = async (name: string) => {
      const response = await server.graphql(
        'mutation ($id: ID!, $n: String!) { updatePatient(id: $id, input: { name: $n }) { name } }',
        { token: frontdesk, variables: { id: patient.patientId, n: name } },
      );
      expect(response.body.data?.updatePatient).toEqual({ name });
    };
    await rename('Before The Race');
    await warm();
    await plant(generationKey(patientScope()), GARBAGE[2] as (typeof GARBAGE)[number]);

    // The replacement is held at the store, as a slow network would hold it, while a write
    // commits and bumps the generation: it lands after the bump and overwrites it.
    const store = server.l2.store as { setMany: GuardedStore['setMany'] };
    const setMany = store.setMany;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let held: Promise<boolean> | undefined;
    store.setMany = (entries, touch) => {
      store.setMany = setMany;
      held = gate.then(() => setMany(entries, touch));
      return held;
    };

    // A reader finds the garbage, misses, and reads the old row from Postgres.
    const reader = server.l2.forRequest('t1');
    const key = buildCacheKey(server.l2.space, {
      kind: 'entity',
      tenantId: 't1',
      type: 'Patient',
      id: patient.patientId,
    });
    expect(await reader.read([{ key, scope: patientScope() }])).toEqual([undefined]);
    const [old] = await fetchEntityRows(server.database.db, 'Patient', 't1', [patient.patientId]);
    expect(old?.name).toBe('Before The Race');
    expect(held).toBeDefined();

    await rename('After The Race');
    release();
    expect(await held).toBe(true);
    // The reader writes back what it read; under a generation it wrote itself it would win.
    await reader.write([{ key, scope: patientScope(), value: old, policy }]);

    for (let i = 0; i < 3; i++) expect((await readName()).name).toBe('After The Race');
    // And L2 serves the patient again, with the new name.
    expect(await msUntilWarm(server.config.cache.breakerResetMs)).toBeDefined();
    expect((await readName()).name).toBe('After The Race');
  });
});

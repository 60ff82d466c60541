/**
 * What every bench entry point sets up the same way: a fresh database seeded with the bench's
 * data and its request stream, and the environment of a server under test.
 */
import { randomBytes } from 'node:crypto';
import { createDatabase } from '../src/db/client.js';
import { seedDatabase } from '../src/db/seed.js';
import { recreateDatabase, type BenchServices } from './environment.js';
import { buildWorkload, type Workload } from './workload.js';

export interface BenchJwt {
  readonly secret: Uint8Array;
  readonly issuer: undefined;
  readonly audience: undefined;
}

/**
 * Drops and recreates the bench database, migrates and seeds it, and builds the request stream,
 * signed with a JWT secret generated for this run.
 */
export async function seedBenchData(
  services: BenchServices,
  options: { patients: number; doctorsPerTenant: number; seed: number; streamLength: number },
): Promise<{ workload: Workload; jwt: BenchJwt; seeded: unknown }> {
  await recreateDatabase(services);
  const database = await createDatabase({ url: services.databaseUrl, poolMax: 4 });
  const jwt: BenchJwt = {
    secret: new TextEncoder().encode(randomBytes(32).toString('hex')),
    issuer: undefined,
    audience: undefined,
  };
  try {
    await database.migrate();
    const seeded = await seedDatabase(database.db, {
      patients: options.patients,
      doctorsPerTenant: options.doctorsPerTenant,
      seed: options.seed,
    });
    const workload = await buildWorkload(database.db, {
      seed: options.seed,
      length: options.streamLength,
      jwt,
    });
    return { workload, jwt, seeded };
  } finally {
    await database.close();
  }
}

/**
 * A server under test's environment. Production mode as deployed: graphql-js skips its
 * development checks, Apollo its introspection, and caregraph refuses its development secrets,
 * so real ones go in.
 */
export function benchServerEnv(
  services: BenchServices,
  jwt: BenchJwt,
  cacheKeyPrefix: string,
): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    DATABASE_URL: services.databaseUrl,
    REDIS_URL: services.redisUrl,
    // The bench's Redis listens on loopback only, with no password.
    REDIS_ALLOW_UNAUTHENTICATED: 'true',
    JWT_SECRET: new TextDecoder().decode(jwt.secret),
    CACHE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    CACHE_KEY_PREFIX: cacheKeyPrefix,
  };
}

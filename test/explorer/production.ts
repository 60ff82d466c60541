import { randomBytes } from 'node:crypto';

/**
 * What a test server needs to start with NODE_ENV=production: real-looking secrets, a database
 * URL (the test database is opened apart from it), and leave to use the suite's password-less
 * Redis.
 */
export function productionEnv(): Record<string, string> {
  return {
    NODE_ENV: 'production',
    JWT_SECRET: randomBytes(32).toString('hex'),
    CACHE_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    DATABASE_URL: 'postgres://127.0.0.1:5432/unused',
    REDIS_ALLOW_UNAUTHENTICATED: 'true',
  };
}

import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { DatabaseHandle } from './db/client.js';
import { createSchema } from './graphql/createSchema.js';
import type { Metrics } from './http/metrics.js';
import { createServer } from './http/server.js';
import type { Logger } from './logger.js';

export interface AppDeps {
  readonly config: Config;
  readonly logger: Logger;
  readonly database: DatabaseHandle;
  readonly metrics: Metrics;
}

/**
 * Wires the schema, its policy and the HTTP server over an open database. `main.ts` and the
 * tests both build the service through here, so tests exercise the production wiring.
 *
 * @throws CachePolicyError when the schema's directives break a cache rule.
 */
export async function createApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, logger, database, metrics } = deps;
  const { schema } = createSchema();
  return createServer({
    schema,
    db: database.db,
    jwt: config.jwt,
    logger,
    metrics,
    introspection: config.introspection,
    production: config.env === 'production',
    maxBodyBytes: config.maxBodyBytes,
    maxQueryLength: config.maxQueryLength,
    checkReadiness: async () => {
      await database.ping();
      return { database: 'up' };
    },
  });
}

/**
 * One server under test, in its own process: `node --import tsx bench/servers/serve.ts <mode>`.
 * The benchmark starts one per mode, with DATABASE_URL, REDIS_URL, PORT and the secrets in the
 * environment, and stops it with SIGTERM. Every mode but the ceiling is caregraph's own wiring
 * (`createApp`), with the one departure its name says.
 */
import KeyvRedis from '@keyv/redis';
import responseCachePlugin from '@apollo/server-plugin-response-cache';
import type { ApolloServerPlugin } from '@apollo/server';
import { KeyvAdapter } from '@apollo/utils.keyvadapter';
import { OperationTypeNode } from 'graphql';
import Keyv from 'keyv';
import { Counter } from 'prom-client';
import { createApp, type AppVariant } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createDatabase } from '../../src/db/client.js';
import type { RequestContext } from '../../src/graphql/context.js';
import { createSchema } from '../../src/graphql/createSchema.js';
import { loadTypeDefs } from '../../src/graphql/loadTypeDefs.js';
import { createMetrics, type Metrics } from '../../src/http/metrics.js';
import { createLogger } from '../../src/logger.js';
import { createCeilingServer } from './ceiling.js';
import { buildPeerTypeDefs } from './peerTypeDefs.js';
import { SERVER_MODES, type ServerMode } from './modes.js';
import { createNullStore, createPlaintextSealer } from './variants.js';

export { SERVER_MODES, type ServerMode } from './modes.js';

async function main(mode: Exclude<ServerMode, 'caregraph-workers'>): Promise<void> {
  const config = loadConfig();
  // Development-mode graphql-js runs checks production skips, and inflates the ceiling far more
  // than caregraph: a figure measured that way would understate the gap (issue 11).
  if (config.env !== 'production') {
    throw new Error('bench servers run with NODE_ENV=production only');
  }
  const logger = createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const database = await createDatabase({
    url: config.databaseUrl,
    poolMax: config.dbPoolMax,
    onStatement: (table) => {
      metrics.dbQueries.inc({ table });
    },
  });
  const server =
    mode === 'ceiling'
      ? await createCeilingServer(database.db)
      : (
          await createApp(
            { config, logger, database, metrics },
            variantOf(mode, metrics, config.redisUrl),
          )
        ).server;
  const origin = await server.listen({ host: '127.0.0.1', port: 0 });
  process.stdout.write(`bench server listening at ${origin}\n`);
  process.once('SIGTERM', () => {
    void server
      .close()
      .then(() => database.close())
      .finally(() => process.exit(0));
  });
}

function variantOf(
  mode: Exclude<ServerMode, 'ceiling' | 'caregraph-workers'>,
  metrics: Metrics,
  redisUrl: string | undefined,
): AppVariant {
  switch (mode) {
    case 'n1':
      return { store: createNullStore(), loaderOptions: { batching: false } };
    case 'l1':
      return { store: createNullStore() };
    case 'caregraph':
      return {};
    case 'caregraph-plaintext':
      return { sealer: createPlaintextSealer() };
    case 'caregraph-no-audit':
      return { audit: false };
    case 'peer':
      return peerVariant(metrics, redisUrl);
  }
}

/**
 * What a team would build with Apollo's own parts: caregraph's loaders without L2, and Apollo's
 * whole-response cache in Redis (Keyv through Apollo's adapter), PRIVATE per user.
 */
function peerVariant(metrics: Metrics, redisUrl: string | undefined): AppVariant {
  if (redisUrl === undefined) throw new Error('the peer needs REDIS_URL');
  const typeDefs = loadTypeDefs();
  const keyv = new Keyv<string>({ store: new KeyvRedis(redisUrl), namespace: 'peer' });
  // The adapter's types come from keyv's CommonJS declarations, the import from its ESM ones.
  const cache = new KeyvAdapter<string>(
    keyv as unknown as ConstructorParameters<typeof KeyvAdapter>[0],
  );
  const responses = new Counter({
    name: 'caregraph_bench_response_cache_total',
    help: 'Queries answered from the peer response cache (hit) or executed (miss)',
    labelNames: ['result'],
    registers: [metrics.registry],
  });
  const countHits: ApolloServerPlugin<RequestContext> = {
    requestDidStart: () =>
      Promise.resolve({
        willSendResponse: ({ metrics: requestMetrics, operation }) => {
          if (operation?.operation !== OperationTypeNode.QUERY) return Promise.resolve();
          responses.inc({ result: requestMetrics.responseCacheHit === true ? 'hit' : 'miss' });
          return Promise.resolve();
        },
      }),
  };
  return {
    typeDefs: buildPeerTypeDefs(typeDefs, createSchema(typeDefs).policies),
    store: createNullStore(),
    responseCache: [
      responseCachePlugin<RequestContext>({
        cache,
        sessionId: ({ contextValue }) =>
          Promise.resolve(`${contextValue.principal.tenantId}:${contextValue.principal.userId}`),
      }),
      countHits,
    ],
  };
}

const mode = process.argv[2] as Exclude<ServerMode, 'caregraph-workers'>;
// caregraph-workers is src/main.ts itself (spawnBenchServer.ts), not a wiring of this file's.
if (!SERVER_MODES.includes(mode) || (mode as ServerMode) === 'caregraph-workers') {
  process.stderr.write(`usage: serve.ts <${SERVER_MODES.join('|')}>\n`);
  process.exit(2);
}
main(mode).catch((error: unknown) => {
  process.stderr.write(`bench server ${mode} failed: ${String(error)}\n`);
  process.exit(1);
});

import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import type { L2Cache } from '../../src/cache/l2Cache.js';
import { createApp } from '../../src/app.js';
import type { InvalidationFeedOptions } from '../../src/cache/invalidationFeed.js';
import type { Role } from '../../src/auth/principal.js';
import { signToken } from '../../src/auth/tokens.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { DatabaseHandle } from '../../src/db/client.js';
import { createMetrics, type Metrics } from '../../src/http/metrics.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase } from './testDatabase.js';
import type { Warmer } from '../../src/warming/warmer.js';
import type { Tracing } from '../../src/tracing/createTracing.js';

export interface GraphQLResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }>;
  };
}

export interface TokenOptions {
  readonly role: Role;
  readonly tenant?: string;
  readonly doctorId?: string;
  readonly patientId?: string;
  readonly expiresIn?: string | number;
}

export interface TestServer {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly l2: L2Cache;
  /** The warmer, when the test turned CACHE_WARM on. */
  readonly warmer: Warmer | undefined;
  readonly config: Config;
  readonly database: DatabaseHandle;
  readonly metrics: Metrics;
  /** SQL statements sent since the server started, other than audit inserts. */
  statements(): number;
  /** Audit INSERT statements sent since the server started. */
  auditInserts(): number;
  token(options: TokenOptions): Promise<string>;
  graphql(
    query: string,
    options?: {
      variables?: Record<string, unknown>;
      token?: string;
      headers?: Record<string, string>;
    },
  ): Promise<GraphQLResponse>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Opens the server's database; a fresh clone of the seeded template when absent. */
  readonly database?: (onStatement: (table: string) => void) => Promise<DatabaseHandle>;
  /** Where the server's log lines go (at the LOG_LEVEL given in env); nowhere when absent. */
  readonly logDestination?: DestinationStream;
  /** Tracing for the server and its default database (see createTracing); off when absent. */
  readonly tracing?: Tracing;
  /** The invalidation feed's timings; TEST_FEED when absent, `{}` for production's. */
  readonly feed?: InvalidationFeedOptions;
}

/**
 * A test server's feed (real Postgres only) vouches for L2 a minute after each ping heard, not a
 * second, and waits as long for a ping: on a loaded machine a stall of a second would otherwise
 * turn a warm read into SQL at random, which tests that count statements cannot tell from a
 * cache that failed. The feed still listens, catches up and applies every invalidation; the
 * production window itself is tested in test/cache/feedFreshness.int.test.ts.
 */
export const TEST_FEED: InvalidationFeedOptions = { freshMs: 60_000, pingTimeoutMs: 60_000 };

/**
 * Starts the service exactly as `main.ts` wires it, on its own fresh database and a random
 * loopback port.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  configure?: (app: FastifyInstance) => void,
  options: TestServerOptions = {},
): Promise<TestServer> {
  let statements = 0;
  let auditInserts = 0;
  const metrics = createMetrics();
  const openDatabase =
    options.database ??
    ((onStatement: (table: string) => void) => createTestDatabase(onStatement, options.tracing));
  const database = await openDatabase((table) => {
    if (table === 'audit_events') auditInserts++;
    else statements++;
    metrics.dbQueries.inc({ table });
  });
  // Real Redis when the run has one (CI), the in-process store otherwise; a key prefix of the
  // server's own keeps parallel test files apart in a shared Redis.
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    // With REDIS_CLUSTER_NODES too (`.ci/run`'s cluster pass), the cluster instead.
    ...(process.env.REDIS_CLUSTER_NODES
      ? { REDIS_CLUSTER_NODES: process.env.REDIS_CLUSTER_NODES }
      : process.env.REDIS_URL
        ? { REDIS_URL: process.env.REDIS_URL }
        : {}),
    CACHE_KEY_PREFIX: `t${randomBytes(5).toString('hex')}`,
    // Two seconds for a Redis reply, not production's 50 ms: on a loaded machine a slow reply
    // would open the breaker and turn warm reads into SQL at random. Tests of timeouts, and of
    // a Redis killed or frozen, set their own.
    REDIS_COMMAND_TIMEOUT_MS: '2000',
    // The warmer's background statements would blur what tests count; its own tests turn it on.
    CACHE_WARM: 'off',
    ...env,
  });
  const logger = createLogger({ level: config.logLevel, destination: options.logDestination });
  const {
    server: app,
    l2,
    warmer,
  } = await createApp(
    { config, logger, database, metrics, tracing: options.tracing },
    { feed: options.feed ?? TEST_FEED },
  );
  configure?.(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = app.listeningOrigin;

  return {
    url,
    app,
    l2,
    warmer,
    config,
    database,
    metrics,
    statements: () => statements,
    auditInserts: () => auditInserts,
    token: (options) =>
      signToken(
        {
          sub: `test-${options.role}`,
          tenant: options.tenant ?? 't1',
          role: options.role,
          doctorId: options.doctorId,
          patientId: options.patientId,
        },
        config.jwt,
        options.expiresIn ?? '1h',
      ),
    graphql: async (query, options = {}) => {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }),
          ...options.headers,
        },
        body: JSON.stringify({ query, variables: options.variables }),
      });
      return {
        status: response.status,
        headers: response.headers,
        body: (await response.json()) as GraphQLResponse['body'],
      };
    },
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}

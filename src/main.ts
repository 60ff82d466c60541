/**
 * The composition root: config → database → server. `npm start` runs this file. Under
 * WEB_CONCURRENCY the first process becomes the primary (src/cluster/runPrimary.ts) and runs
 * this file again in each worker, which serves as a single process would.
 */
import cluster from 'node:cluster';
import { createApp } from './app.js';
import { joinClusterMetrics } from './cluster/clusterMetrics.js';
import { runPrimary } from './cluster/runPrimary.js';
import { ConfigError, loadConfig } from './config.js';
import { createDatabase } from './db/client.js';
import { seedDatabase } from './db/seed.js';
import { writeDevBanner } from './http/devBanner.js';
import { createMetrics } from './http/metrics.js';
import { createLogger, describeError } from './logger.js';
import { CachePolicyError } from './policy/readCachePolicies.js';
import { createTracing } from './tracing/createTracing.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const rootLogger = createLogger({ level: config.logLevel });
  const worker = cluster.worker;
  // A worker's lines say which process wrote them; one process's lines are as they always were.
  const logger =
    worker === undefined ? rootLogger : rootLogger.child({ worker: worker.id, pid: process.pid });
  // Node's own report of an uncaught error prints its message, which may quote a statement's
  // parameters; the process still exits, as it would have.
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    process.once(event, (error: unknown) => {
      logger.fatal({ err: describeError(error) }, event);
      process.exit(1);
    });
  }
  // Under a primary, the primary has logged them once already.
  if (worker === undefined) {
    for (const warning of config.warnings) {
      logger.warn(warning);
    }
  }
  if (worker === undefined && config.webConcurrency > 1) {
    runPrimary(config, logger);
    return;
  }

  const metrics = createMetrics();
  // Per process: each worker exports its own spans.
  const tracing = createTracing(config.tracing, { environment: config.env });
  const database = await createDatabase({
    tracing,
    url: config.databaseUrl,
    poolMax: config.dbPoolMax,
    onStatement: (table) => {
      metrics.dbQueries.inc({ table });
    },
  });
  if (database.kind === 'pglite') {
    logger.info('DATABASE_URL is unset: starting the embedded PGlite database');
    await database.migrate();
    const summary = await seedDatabase(database.db, { patients: config.embeddedSeedPatients });
    logger.info(summary, 'embedded database migrated and seeded');
  }

  const { server: app } = await createApp({
    config,
    logger,
    database,
    metrics,
    tracing,
    ...(worker === undefined
      ? {}
      : { scrapeMetrics: joinClusterMetrics(metrics.registry, worker) }),
  });
  await app.listen({ host: config.host, port: config.port });
  if (database.kind === 'pglite') {
    await writeDevBanner(process.stdout, {
      db: database.db,
      jwt: config.jwt,
      address: app.listeningOrigin,
    });
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining in-flight requests');
    // Past the timeout, exit rather than hang a deploy; unref lets a clean close exit sooner.
    setTimeout(() => process.exit(1), config.shutdownTimeoutMs).unref();
    app
      .close()
      .then(() => database.close())
      // Spans still buffered are exported before the process exits.
      .then(() => tracing.shutdown())
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: describeError(error) }, 'error while stopping');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.once('SIGINT', () => {
    stop('SIGINT');
  });
  // A worker whose primary is gone gets no more connections: it drains and exits.
  if (worker !== undefined) {
    process.once('disconnect', () => {
      stop('disconnect');
    });
  }
}

main().catch((error: unknown) => {
  // Configuration and policy errors are the operator's to fix: print them plainly.
  if (error instanceof ConfigError || error instanceof CachePolicyError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`caregraph failed to start: ${JSON.stringify(describeError(error))}\n`);
  }
  process.exit(1);
});

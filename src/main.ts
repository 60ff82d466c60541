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
import { createSchema } from './graphql/createSchema.js';
import { loadTypeDefs } from './graphql/loadTypeDefs.js';
import { writeDevBanner } from './http/devBanner.js';
import { createMetrics } from './http/metrics.js';
import { createLogger, describeError, type Logger } from './logger.js';
import { AccessCoverageError } from './permissions/accessCoverage.js';
import { CachePolicyError } from './policy/readCachePolicies.js';
import { prepareEmbeddedDatabase } from './startup/prepareEmbeddedDatabase.js';
import { SNAPSHOT_CACHE_DIR } from './startup/seedSnapshot.js';
import { createStartupSteps } from './startup/startupSteps.js';
import { createTracing } from './tracing/createTracing.js';
import { flushLog } from './startup/flushLog.js';

/** Set once the logger exists, so that a failed start's error is the last line written. */
let startLogger: Logger | undefined;

async function main(): Promise<void> {
  // Everything Node did before this line (loading and transpiling the code) is the first step.
  const loadedMs = performance.now();
  const config = loadConfig();
  const configMs = performance.now() - loadedMs;
  const rootLogger = createLogger({ level: config.logLevel });
  startLogger = rootLogger;
  const worker = cluster.worker;
  // A worker's lines say which process wrote them; one process's lines are as they always were.
  const logger =
    worker === undefined ? rootLogger : rootLogger.child({ worker: worker.id, pid: process.pid });
  const steps = createStartupSteps(logger);
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
  steps.record('load', loadedMs);
  steps.record('config', configMs);
  // Before any database work: a schema that breaks a cache or access rule fails the start in
  // a second, not after the embedded database has been seeded.
  const schema = await steps.time('schema', () => {
    const typeDefs = loadTypeDefs();
    return { typeDefs, ...createSchema(typeDefs) };
  });
  if (worker === undefined && config.webConcurrency > 1) {
    runPrimary(config, logger);
    return;
  }

  const metrics = createMetrics();
  // Per process: each worker exports its own spans.
  const tracing = createTracing(config.tracing, { environment: config.env });
  const onStatement = (table: string): void => {
    metrics.dbQueries.inc({ table });
  };
  const database =
    config.databaseUrl === undefined
      ? await prepareEmbeddedDatabase({
          patients: config.embeddedSeedPatients,
          snapshotDir: config.embeddedSnapshotDir ?? SNAPSHOT_CACHE_DIR,
          onStatement,
          tracing,
          steps,
          logger,
        })
      : await steps.time('database', () =>
          createDatabase({
            tracing,
            url: config.databaseUrl,
            poolMax: config.dbPoolMax,
            onStatement,
          }),
        );

  const { server: app, metricsListener } = await createApp({
    config,
    logger,
    database,
    metrics,
    schema,
    steps,
    tracing,
    ...(worker === undefined
      ? {}
      : { scrapeMetrics: joinClusterMetrics(metrics.registry, worker) }),
  });
  await steps.time('listen', async () => {
    await app.listen({ host: config.host, port: config.port });
    await metricsListener?.listen();
  });
  if (database.kind === 'pglite') {
    await steps.time('banner', () =>
      writeDevBanner(process.stdout, {
        db: database.db,
        jwt: config.jwt,
        address: app.listeningOrigin,
      }),
    );
  }
  steps.ready();

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
  // Lines logged before the failure are written first: the error is the last thing printed.
  flushLog(startLogger);
  // Configuration, policy and access errors are the operator's to fix: print them plainly.
  if (
    error instanceof ConfigError ||
    error instanceof CachePolicyError ||
    error instanceof AccessCoverageError
  ) {
    process.stderr.write(`caregraph did not start: ${error.message}\n`);
  } else {
    process.stderr.write(`caregraph failed to start: ${JSON.stringify(describeError(error))}\n`);
  }
  process.exit(1);
});

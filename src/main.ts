/**
 * The composition root: config → database → server. `npm start` runs this file.
 */
import { createApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createDatabase } from './db/client.js';
import { seedDatabase } from './db/seed.js';
import { writeDevBanner } from './http/devBanner.js';
import { createMetrics } from './http/metrics.js';
import { createLogger, describeError } from './logger.js';
import { CachePolicyError } from './policy/readCachePolicies.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  // Node's own report of an uncaught error prints its message, which may quote a statement's
  // parameters; the process still exits, as it would have.
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    process.once(event, (error: unknown) => {
      logger.fatal({ err: describeError(error) }, event);
      process.exit(1);
    });
  }
  for (const warning of config.warnings) {
    logger.warn(warning);
  }

  const metrics = createMetrics();
  const database = await createDatabase({
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

  const { server: app } = await createApp({ config, logger, database, metrics });
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

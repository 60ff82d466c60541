/**
 * `npm run db:embedded`, also run by `npm install` (the `prepare` script): builds the seeded
 * snapshot of the embedded database that `npm start` starts from, so that the very first start
 * on a fresh clone skips PGlite's initdb and the seed as every later one does. It does nothing
 * when DATABASE_URL is set, or when the snapshot is already there.
 *
 * The snapshot is a cache: a failure here is reported and leaves the install alone, and
 * `npm start` then seeds as it would have.
 */
import { loadConfig } from '../config.js';
import { createLogger, describeError } from '../logger.js';
import { prepareEmbeddedDatabase } from '../startup/prepareEmbeddedDatabase.js';
import { SNAPSHOT_CACHE_DIR } from '../startup/seedSnapshot.js';
import { createStartupSteps } from '../startup/startupSteps.js';

async function prepare(): Promise<string> {
  const config = loadConfig();
  if (config.databaseUrl !== undefined) return 'DATABASE_URL is set: no embedded database';
  const logger = createLogger({ level: 'warn' });
  const started = performance.now();
  const database = await prepareEmbeddedDatabase({
    patients: config.embeddedSeedPatients,
    snapshotDir: config.embeddedSnapshotDir ?? SNAPSHOT_CACHE_DIR,
    onStatement: () => undefined,
    steps: createStartupSteps(logger),
    logger,
  });
  // Closing waits for the snapshot's write.
  await database.close();
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  return `embedded database snapshot ready (${String(config.embeddedSeedPatients)} patients, ${seconds} s)`;
}

prepare()
  .then((summary) => {
    process.stdout.write(`${summary}\n`);
  })
  .catch((error: unknown) => {
    process.stderr.write(
      `the embedded database snapshot was not prepared (npm start will seed instead): ${JSON.stringify(describeError(error))}\n`,
    );
  });

import { createDatabase, type DatabaseHandle } from '../db/client.js';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describeError, type Logger } from '../logger.js';
import {
  readSnapshot,
  snapshotFileName,
  writeSnapshot,
  type SnapshotInput,
} from './seedSnapshot.js';
import type { StartupSteps } from './startupSteps.js';
import type { Tracing } from '../tracing/createTracing.js';

export interface EmbeddedDatabaseOptions {
  readonly patients: number;
  /** Where seeded snapshots are kept (see seedSnapshot.ts). */
  readonly snapshotDir: string;
  readonly onStatement: (table: string) => void;
  /** Spans for the statements of traced requests (see createTracing). */
  readonly tracing?: Tracing;
  readonly steps: StartupSteps;
  readonly logger: Logger;
}

/** The seed `npm start` writes; `npm run db:seed` defaults to the same. */
const EMBEDDED_SEED = 42;

/**
 * Starts the embedded PGlite database, migrated and seeded, for `npm start` without
 * DATABASE_URL. A new cluster costs an initdb and the seed costs seconds more, so the first
 * start of a given migrations-and-seed keeps the seeded data directory as a snapshot, and the
 * starts after it begin from that: the same rows, byte for byte, without initdb or seed.
 * The snapshot is taken before the server exists, so no request's write ever gets into it.
 */
export async function prepareEmbeddedDatabase(
  options: EmbeddedDatabaseOptions,
): Promise<DatabaseHandle> {
  const { steps, logger, onStatement } = options;
  logger.info('DATABASE_URL is unset: starting the embedded PGlite database');
  const input: SnapshotInput = { patients: options.patients, seed: EMBEDDED_SEED };
  const name = snapshotFileName(input);
  const fromSnapshot = await startFromSnapshot(options, name);
  if (fromSnapshot !== undefined) return fromSnapshot;

  const database = await steps.time(
    'pglite',
    () => createDatabase({ url: undefined, onStatement, tracing: options.tracing }),
    () => ({ snapshot: 'none' }),
  );
  await steps.time('migrate', () => database.migrate());
  // Faker is half a second of loading on its own: only a start that seeds loads it.
  const { seedDatabase } = await import('../db/seed.js');
  await steps.time(
    'seed',
    () => seedDatabase(database.db, { patients: input.patients, seed: input.seed }),
    (summary) => summary,
  );
  const dataDir = await steps.time(
    'snapshot',
    () => database.dumpDataDir?.(),
    (blob) => ({ bytes: blob?.size ?? 0 }),
  );
  if (dataDir === undefined) return database;
  // Written while the server starts and serves; closing the database waits for it, so that a
  // start stopped at once still leaves its snapshot for the next.
  const written = writeSnapshot(options.snapshotDir, name, dataDir).catch((error: unknown) => {
    logger.warn({ err: describeError(error) }, 'the embedded snapshot was not written');
  });
  return {
    ...database,
    close: async () => {
      await written;
      await database.close();
    },
  };
}

/**
 * Starts from the snapshot, when there is one.
 *
 * @returns the migrated database, or undefined when there is no snapshot or it did not start
 *   (a snapshot is a cache: one that fails is set aside, and the start seeds afresh).
 */
async function startFromSnapshot(
  options: EmbeddedDatabaseOptions,
  name: string,
): Promise<DatabaseHandle | undefined> {
  const { steps, logger, onStatement } = options;
  const started = performance.now();
  const snapshot = await readSnapshot(options.snapshotDir, name, () => {
    logger.warn('the embedded snapshot is damaged: set aside, seeding afresh');
  });
  if (snapshot === undefined) return undefined;
  let database: DatabaseHandle | undefined;
  try {
    database = await createDatabase({
      url: undefined,
      onStatement,
      tracing: options.tracing,
      pgliteDataDir: snapshot,
    });
    steps.record('pglite', performance.now() - started, { snapshot: 'loaded' });
    // Nothing to apply when the key is right; run anyway, as every start does.
    await steps.time('migrate', () => database?.migrate());
    return database;
  } catch (error) {
    logger.warn({ err: describeError(error) }, 'the embedded snapshot did not start: seeding');
    await database?.close().catch(() => undefined);
    await rm(join(options.snapshotDir, name), { force: true });
    return undefined;
  }
}

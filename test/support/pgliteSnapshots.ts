import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase } from '../../src/db/client.js';
import { seedDatabase } from '../../src/db/seed.js';
import { snapshotKey, writeSnapshot } from '../../src/startup/seedSnapshot.js';
import { TEST_PATIENTS, TEST_SEED, type PgliteSnapshots } from './testDatabase.js';

const CACHE_DIR = fileURLToPath(
  new URL('../../node_modules/.cache/caregraph-test', import.meta.url),
);

/**
 * The run's PGlite snapshots: one migrated, one migrated and seeded. Building them costs
 * PGlite's initdb, the migrations and the seed (tens of seconds on a busy machine), so they are
 * kept in node_modules/.cache under the key `npm start` gives its own seeded snapshot (a hash
 * of everything that decides the rows), in the same sealed format, and rebuilt only when the
 * key changes.
 */
export async function pgliteSnapshots(): Promise<PgliteSnapshots> {
  const dir = join(
    CACHE_DIR,
    `pglite-${snapshotKey({ patients: TEST_PATIENTS, seed: TEST_SEED })}`,
  );
  const snapshots = { empty: join(dir, 'migrated.tar'), seeded: join(dir, 'seeded.tar') };
  if (existsSync(snapshots.empty) && existsSync(snapshots.seeded)) return snapshots;
  // Snapshots of older keys are never used again.
  if (existsSync(CACHE_DIR))
    for (const old of readdirSync(CACHE_DIR))
      if (old.startsWith('pglite-')) rmSync(join(CACHE_DIR, old), { recursive: true, force: true });
  const handle = await createDatabase({ url: undefined });
  try {
    const dump = async (name: string) => {
      const tarball = await handle.dumpDataDir?.();
      if (tarball === undefined) throw new Error('the embedded database cannot be dumped');
      await writeSnapshot(dir, name, tarball);
    };
    await handle.migrate();
    await dump('migrated.tar');
    await seedDatabase(handle.db, { patients: TEST_PATIENTS, seed: TEST_SEED });
    await dump('seeded.tar');
  } finally {
    await handle.close();
  }
  return snapshots;
}

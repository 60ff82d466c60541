import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase } from '../../src/db/client.js';
import { seedDatabase } from '../../src/db/seed.js';
import { TEST_PATIENTS, TEST_SEED, type PgliteSnapshots } from './testDatabase.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'caregraph-test');

/** Every file a snapshot's contents depend on: the migrations, the schema and seed code, the lockfile. */
function inputs(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true })
      .flatMap((entry) =>
        entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
      )
      .sort();
  return [
    ...walk(join(ROOT, 'drizzle')),
    ...walk(join(ROOT, 'src', 'db')),
    join(ROOT, 'package-lock.json'),
    fileURLToPath(import.meta.url),
  ];
}

function fingerprint(): string {
  const hash = createHash('sha256');
  hash.update(`${TEST_PATIENTS}:${TEST_SEED}\n`);
  for (const file of inputs()) {
    hash.update(relative(ROOT, file));
    hash.update(readFileSync(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The run's PGlite snapshots: one migrated, one migrated and seeded. Building them costs
 * PGlite's initdb, the migrations and the seed (tens of seconds on a busy machine), so they are
 * kept in node_modules/.cache under a fingerprint of everything that goes into them, and
 * rebuilt only when one of those files changes.
 */
export async function pgliteSnapshots(): Promise<PgliteSnapshots> {
  const dir = join(CACHE_DIR, `pglite-${fingerprint()}`);
  const snapshots = { empty: join(dir, 'migrated.tar'), seeded: join(dir, 'seeded.tar') };
  if (existsSync(snapshots.empty) && existsSync(snapshots.seeded)) return snapshots;
  // Snapshots of older inputs are never used again.
  if (existsSync(CACHE_DIR))
    for (const old of readdirSync(CACHE_DIR))
      if (old.startsWith('pglite-')) rmSync(join(CACHE_DIR, old), { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const handle = await createDatabase({ url: undefined });
  try {
    // Written under a temporary name and renamed: a run stopped midway leaves no half file.
    const dump = async (path: string) => {
      const tarball = await handle.dumpDataDir?.();
      if (tarball === undefined) throw new Error('the embedded database cannot be dumped');
      const partial = `${path}.${process.pid}.partial`;
      writeFileSync(partial, Buffer.from(await tarball.arrayBuffer()));
      renameSync(partial, path);
    };
    await handle.migrate();
    await dump(snapshots.empty);
    await seedDatabase(handle.db, { patients: TEST_PATIENTS, seed: TEST_SEED });
    await dump(snapshots.seeded);
  } finally {
    await handle.close();
  }
  return snapshots;
}

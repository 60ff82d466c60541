import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm start` keeps seeded embedded databases: disposable, as node_modules is. */
export const SNAPSHOT_CACHE_DIR = fileURLToPath(
  new URL('../../node_modules/.cache/caregraph', import.meta.url),
);

const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
// The seed's own folder, src/db or dist/db: whichever this module was loaded beside.
const DB_MODULES = fileURLToPath(new URL('../db/', import.meta.url));
/** Raised when the snapshot's layout changes, so that old files are never read as new. */
const FORMAT = 'caregraph-embedded-snapshot-1';
/** The packages whose versions change what the same seed code writes, or how it is stored. */
const PACKAGES = ['@electric-sql/pglite', '@faker-js/faker', 'drizzle-orm'];

export interface SnapshotInput {
  /** The seed's patient count (EMBEDDED_SEED_PATIENTS). */
  readonly patients: number;
  /** The faker seed. */
  readonly seed: number;
}

/**
 * The key of a seeded database: a hash of everything that decides its rows and its catalog
 * (the migrations, the seed and table code, the versions of PGlite, faker and drizzle, and
 * the seed's parameters). A change to any of them makes a new key, and so a fresh seed.
 */
export function snapshotKey(input: SnapshotInput): string {
  const hash = createHash('sha256').update(`${FORMAT}\n${JSON.stringify(input)}\n`);
  const files = [
    ...listFiles(join(PROJECT_ROOT, 'drizzle')),
    ...listFiles(DB_MODULES).filter((file) => /[/\\]seed\.[jt]s$/.test(file)),
    ...listFiles(join(DB_MODULES, 'tables')),
    ...PACKAGES.map((name) => join(PROJECT_ROOT, 'node_modules', name, 'package.json')),
  ];
  for (const file of files) {
    hash.update(`${file.slice(PROJECT_ROOT.length)}\n`);
    hash.update(existsSync(file) ? readFileSync(file) : 'missing');
    hash.update('\n');
  }
  return hash.digest('hex').slice(0, 32);
}

/** Files under `dir`, recursively, in a stable order; none when it does not exist. */
function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** The snapshot file of a seed: its patient count, to keep one per count, and its key. */
export function snapshotFileName(input: SnapshotInput): string {
  return `embedded-p${String(input.patients)}-${snapshotKey(input)}.tar`;
}

/**
 * Reads a snapshot, if one was written.
 *
 * @returns the data directory as a tarball, or undefined when there is none (or it cannot be
 *   read: a snapshot is a cache, never a reason not to start).
 */
export async function readSnapshot(dir: string, name: string): Promise<Blob | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, name));
  } catch {
    return undefined;
  }
  // Snapshots are written as plain tar. Anything else is set aside before PGlite sees it: given
  // bytes it takes for gzip, PGlite fails outside the promise it returns, which ends the process.
  if (!isTar(bytes)) {
    await rm(join(dir, name), { force: true });
    return undefined;
  }
  return new Blob([bytes]);
}

/** A POSIX tar: whole 512-byte blocks, the first a header that says `ustar`. */
function isTar(bytes: Buffer): boolean {
  return (
    bytes.length >= 1024 &&
    bytes.length % 512 === 0 &&
    bytes.subarray(257, 262).toString('latin1') === 'ustar'
  );
}

/**
 * Writes a snapshot atomically (a rename: two starts that write at once each rename a whole
 * file), then removes the older snapshots of the same patient count.
 */
export async function writeSnapshot(dir: string, name: string, dataDir: Blob): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temporary = join(dir, `.${name}.${String(process.pid)}.tmp`);
  await writeFile(temporary, Buffer.from(await dataDir.arrayBuffer()));
  await rename(temporary, join(dir, name));
  // Older keys of this patient count, and their leftovers from an interrupted write.
  const [count, key] = /^(embedded-p\d+-)(\w+)\.tar$/.exec(name)?.slice(1) ?? [];
  if (count === undefined || key === undefined) return;
  const stale = (await readdir(dir)).filter(
    (other) => other.includes(count) && !other.includes(key),
  );
  await Promise.all(stale.map((other) => rm(join(dir, other), { force: true })));
}

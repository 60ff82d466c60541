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
 * Reads a snapshot, if one was written and is whole.
 *
 * @returns the data directory as a tarball, or undefined when there is none (or it cannot be
 *   read: a snapshot is a cache, never a reason not to start).
 */
export async function readSnapshot(
  dir: string,
  name: string,
  onDamaged: () => void = () => undefined,
): Promise<Blob | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(join(dir, name));
  } catch {
    return undefined;
  }
  // A snapshot ends with the SHA-256 of what precedes it. A file that does not check out is
  // set aside before PGlite sees it: given damaged bytes, PGlite fails outside the promise it
  // returns, which ends the process, and would end every start after it.
  const body = verifiedBody(bytes);
  if (body === undefined) {
    onDamaged();
    await rm(join(dir, name), { force: true });
    return undefined;
  }
  return new Blob([body]);
}

/** What follows a snapshot's data directory: its SHA-256, then this marker. */
const TRAILER_MARK = Buffer.from('caregraph-snapshot-sha256-v1', 'latin1');
const DIGEST_BYTES = 32;

function verifiedBody(bytes: Buffer): Buffer | undefined {
  const trailer = DIGEST_BYTES + TRAILER_MARK.length;
  if (bytes.length <= trailer) return undefined;
  if (!bytes.subarray(bytes.length - TRAILER_MARK.length).equals(TRAILER_MARK)) return undefined;
  const body = bytes.subarray(0, bytes.length - trailer);
  const digest = bytes.subarray(body.length, body.length + DIGEST_BYTES);
  return createHash('sha256').update(body).digest().equals(digest) ? body : undefined;
}

/** The bytes a snapshot file holds: the data directory, its digest, the marker. */
export function sealSnapshot(dataDir: Buffer): Buffer {
  return Buffer.concat([dataDir, createHash('sha256').update(dataDir).digest(), TRAILER_MARK]);
}

/**
 * Writes a snapshot atomically (a rename: two starts that write at once each rename a whole
 * file), then removes the older snapshots of the same patient count.
 */
export async function writeSnapshot(dir: string, name: string, dataDir: Blob): Promise<void> {
  await mkdir(dir, { recursive: true });
  const temporary = join(dir, `.${name}.${String(process.pid)}.tmp`);
  await writeFile(temporary, sealSnapshot(Buffer.from(await dataDir.arrayBuffer())));
  await rename(temporary, join(dir, name));
  // Older keys of this patient count, and their leftovers from an interrupted write.
  const [count, key] = /^(embedded-p\d+-)(\w+)\.tar$/.exec(name)?.slice(1) ?? [];
  if (count === undefined || key === undefined) return;
  const stale = (await readdir(dir)).filter(
    (other) => other.includes(count) && !other.includes(key),
  );
  await Promise.all(stale.map((other) => rm(join(dir, other), { force: true })));
}

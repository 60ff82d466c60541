import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readSnapshot, snapshotFileName, writeSnapshot } from '../../src/startup/seedSnapshot.js';

/** A data directory's bytes, as PGlite dumps them (their content does not matter here). */
const TAR = Buffer.alloc(1024);
TAR.write('ustar', 257, 'latin1');

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'caregraph-snapshots-'));
  dirs.push(dir);
  return dir;
};

describe('seedSnapshot', () => {
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('names a snapshot by its patient count and a key of everything that decides its rows', () => {
    const name = snapshotFileName({ patients: 200, seed: 42 });
    expect(name).toMatch(/^embedded-p200-[0-9a-f]{32}\.tar$/);
    expect(snapshotFileName({ patients: 200, seed: 42 })).toBe(name);
    expect(snapshotFileName({ patients: 201, seed: 42 })).not.toBe(name);
    expect(snapshotFileName({ patients: 200, seed: 43 }).slice(-36)).not.toBe(name.slice(-36));
  });

  it('reads back what it wrote, and nothing where there is no snapshot', async () => {
    const dir = tempDir();
    const name = snapshotFileName({ patients: 20, seed: 42 });
    expect(await readSnapshot(dir, name)).toBeUndefined();
    await writeSnapshot(join(dir, 'nested'), name, new Blob([TAR]));
    const read = await readSnapshot(join(dir, 'nested'), name);
    expect(Buffer.from(await (read ?? new Blob([])).arrayBuffer()).equals(TAR)).toBe(true);
  });

  it('sets aside a damaged snapshot, before PGlite could choke on it, and says so', async () => {
    const dir = tempDir();
    const name = snapshotFileName({ patients: 20, seed: 42 });
    await writeSnapshot(dir, name, new Blob([TAR]));
    const whole = readFileSync(join(dir, name));
    const damagedBody = Buffer.from(whole);
    damagedBody[600] = (damagedBody[600] ?? 0) ^ 0xff;
    const corrupt = [
      randomBytes(1000),
      Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08]), randomBytes(4096)]),
      Buffer.alloc(0),
      whole.subarray(0, 700),
      damagedBody,
      TAR,
    ];
    for (const bytes of corrupt) {
      writeFileSync(join(dir, name), bytes);
      let warned = 0;
      expect(await readSnapshot(dir, name, () => (warned += 1))).toBeUndefined();
      expect(warned).toBe(1);
      expect(readdirSync(dir)).toEqual([]);
    }
  });

  it('replaces older snapshots of the same patient count and their leftovers, and no other', async () => {
    const dir = tempDir();
    const old = 'embedded-p20-0123456789abcdef0123456789abcdef.tar';
    const leftover = `.${old}.4242.tmp`;
    const other = 'embedded-p200-0123456789abcdef0123456789abcdef.tar';
    for (const file of [old, leftover, other]) writeFileSync(join(dir, file), 'old');
    const name = snapshotFileName({ patients: 20, seed: 42 });
    await writeSnapshot(dir, name, new Blob(['new']));
    expect(readdirSync(dir).sort()).toEqual([name, other].sort());
  });
});

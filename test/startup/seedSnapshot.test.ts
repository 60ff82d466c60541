import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readSnapshot, snapshotFileName, writeSnapshot } from '../../src/startup/seedSnapshot.js';

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
    await writeSnapshot(join(dir, 'nested'), name, new Blob(['a data directory']));
    const read = await readSnapshot(join(dir, 'nested'), name);
    expect(await read?.text()).toBe('a data directory');
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

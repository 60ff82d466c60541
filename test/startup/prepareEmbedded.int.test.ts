import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/runCli.js';

const dir = mkdtempSync(join(tmpdir(), 'caregraph-prepare-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('npm run db:embedded (run by npm install)', () => {
  it('writes the seeded snapshot that npm start starts from', async () => {
    const { code, stdout } = await runCli('prepareEmbedded', [], {
      EMBEDDED_SNAPSHOT_DIR: dir,
      EMBEDDED_SEED_PATIENTS: '20',
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/embedded database snapshot ready \(20 patients/);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tar'))).toHaveLength(1);
  }, 120_000);

  it('does nothing when DATABASE_URL is set', async () => {
    const other = mkdtempSync(join(tmpdir(), 'caregraph-prepare-'));
    try {
      const { code, stdout } = await runCli('prepareEmbedded', [], {
        EMBEDDED_SNAPSHOT_DIR: other,
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      });
      expect(code).toBe(0);
      expect(stdout).toContain('DATABASE_URL is set');
      expect(readdirSync(other)).toEqual([]);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  }, 60_000);
});

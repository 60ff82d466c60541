import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEMA_DIR } from '../../src/graphql/loadTypeDefs.js';

const run = promisify(execFile);
const dirs: string[] = [];

/** A copy of schema/ with one file edited. */
function schemaWith(file: string, edit: (sdl: string) => string): string {
  const dir = mkdtempSync(join(tmpdir(), 'caregraph-schema-'));
  dirs.push(dir);
  cpSync(SCHEMA_DIR, dir, { recursive: true });
  writeFileSync(join(dir, file), edit(readFileSync(join(dir, file), 'utf8')));
  return dir;
}

function checkSchema(dir?: string) {
  const args = ['--import', 'tsx', 'src/cli/checkSchema.ts', ...(dir ? ['--schema', dir] : [])];
  return run(process.execPath, args);
}

describe('npm run check:schema', () => {
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('prints the effective policy table and passes on the schema', async () => {
    const { stdout } = await checkSchema();
    expect(stdout).toMatch(/MedicalRecord\s+notes\s+phi\s+60\s+type\+field/);
    expect(stdout).toMatch(/Study\s+reportStatus\s+phi\s+30\s+type\+field/);
    expect(stdout).toMatch(/Department\s+name\s+reference\s+7200\s+type/);
    expect(stdout).toContain('every cache rule holds');
  });

  it('fails on @phi(maxAge: 301)', async () => {
    const dir = schemaWith('record.graphql', (sdl) =>
      sdl.replace('@phi(maxAge: 60)', '@phi(maxAge: 301)'),
    );
    await expect(checkSchema(dir)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        'MedicalRecord.notes: @phi(maxAge: 301) exceeds the HIPAA cap',
      ) as unknown,
    });
  });

  it('fails when a cached type has no policy', async () => {
    const dir = schemaWith('doctor.graphql', (sdl) =>
      sdl.replace('type Doctor @reference {', 'type Doctor {'),
    );
    await expect(checkSchema(dir)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        'Doctor is cached but has no @phi or @reference policy',
      ) as unknown,
    });
  });

  it('fails when a @reference type exposes a @phi type without its own annotation', async () => {
    const dir = schemaWith('doctor.graphql', (sdl) =>
      sdl.replace(
        '  department: Department!',
        '  department: Department!\n  patients: [Patient!]!',
      ),
    );
    await expect(checkSchema(dir)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        'Doctor.patients returns @phi type Patient under @reference',
      ) as unknown,
    });
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder holding the SDL, `schema/*.graphql`, relative to this module in src/ or dist/. */
export const SCHEMA_DIR = fileURLToPath(new URL('../../schema', import.meta.url));

/**
 * Reads every `schema/*.graphql` file, in name order, into one SDL string.
 *
 * @throws when the folder is missing or holds no SDL.
 */
export function loadTypeDefs(dir: string = SCHEMA_DIR): string {
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.graphql'))
    .sort();
  if (files.length === 0) throw new Error(`No .graphql files in ${dir}`);
  return files.map((name) => readFileSync(join(dir, name), 'utf8')).join('\n');
}

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

describe('the request pipeline', () => {
  // A plugin with willResolveField makes Apollo wrap every field of every response in its
  // instrumentation: costs would grow with fields, not entities.
  it('defines no per-field plugin hook', () => {
    const hooked = sourceFiles('src').filter((file) =>
      /\bwillResolveField\b/.test(readFileSync(file, 'utf8')),
    );
    expect(hooked).toEqual([]);
  });
});

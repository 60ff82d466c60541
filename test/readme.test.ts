import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_ENV_VARS } from '../src/config.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README.md', () => {
  it('documents every environment variable the config module reads', () => {
    for (const name of CONFIG_ENV_VARS) expect(readme).toContain(`\`${name}\``);
  });

  it('gives the two-command quick start', () => {
    expect(readme).toContain('npm install && npm start');
    expect(readme).toContain('npm install && npm test');
  });
});

describe('README.md access table', () => {
  it('is the matrix the access test checks', async () => {
    const { renderAccessMatrix } = await import('./permissions/accessMatrix.js');
    expect(readme).toContain(renderAccessMatrix());
  });
});

import fastify from 'fastify';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadExplorerBundle } from '../../../src/http/explorer/bundle.js';
import { registerExplorer } from '../../../src/http/explorer/index.js';
import { createLogger } from '../../../src/logger.js';

const dirs: string[] = [];
function bundleDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'caregraph-explorer-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const MANIFEST = JSON.stringify({ script: 'app-1.js', style: 'app-1.css', files: ['w-1.js'] });

describe('loadExplorerBundle', () => {
  it('holds every file the manifest lists', () => {
    const bundle = loadExplorerBundle(
      bundleDir({ 'manifest.json': MANIFEST, 'app-1.js': 'x', 'app-1.css': 'y', 'w-1.js': 'z' }),
    );
    expect(bundle.ready && [...bundle.assets.keys()].sort()).toEqual([
      'app-1.css',
      'app-1.js',
      'w-1.js',
    ]);
  });

  it('says what is missing instead of throwing', () => {
    expect(loadExplorerBundle(bundleDir({}))).toEqual({
      ready: false,
      problem: 'manifest.json is missing or not JSON',
    });
    expect(loadExplorerBundle(bundleDir({ 'manifest.json': MANIFEST, 'app-1.js': 'x' }))).toEqual({
      ready: false,
      problem: 'app-1.css is missing',
    });
    const escaping = JSON.stringify({ script: '../secret.js', style: 'a.css', files: [] });
    expect(loadExplorerBundle(bundleDir({ 'manifest.json': escaping }))).toEqual({
      ready: false,
      problem: 'manifest.json is malformed',
    });
  });
});

describe('registerExplorer without a bundle', () => {
  it('logs how to build it, and answers a browser 503 saying so', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (s) => lines.push(s) } });
    const app = fastify();
    registerExplorer(app, {
      graphqlPath: '/graphql',
      logger,
      bundle: loadExplorerBundle(bundleDir({})),
    });
    app.get('/graphql', () => ({ graphql: true }));
    expect(lines.join('')).toMatch(/explorer bundle unavailable; run `npm run build:explorer`/);
    const page = await app.inject({ url: '/graphql', headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('npm run build:explorer');
    const json = await app.inject({ url: '/graphql', headers: { accept: 'application/json' } });
    expect(json.json()).toEqual({ graphql: true });
    await app.close();
  });
});

import { readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { z } from 'zod';
import { EXPLORER_BUNDLE_DIR, MANIFEST_FILE, type ExplorerManifest } from './manifest.js';

/** One file of the bundle, held in memory: the bundle is a few MB and never changes while up. */
export interface ExplorerAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

export type ExplorerBundle =
  | {
      readonly ready: true;
      readonly manifest: ExplorerManifest;
      /** By file name; the only files the asset route serves. */
      readonly assets: ReadonlyMap<string, ExplorerAsset>;
    }
  | { readonly ready: false; readonly problem: string };

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
};

const FILE_NAME = /^[A-Za-z0-9._-]+$/;
const manifestSchema = z.object({
  script: z.string().regex(FILE_NAME),
  style: z.string().regex(FILE_NAME),
  files: z.array(z.string().regex(FILE_NAME)),
});

/**
 * Reads the explorer bundle that `npm run build:explorer` wrote: its manifest and every file the
 * manifest lists.
 *
 * @returns the bundle, or why it cannot be served (never throws: the API runs without it).
 */
export function loadExplorerBundle(dir: string = EXPLORER_BUNDLE_DIR): ExplorerBundle {
  let manifest: ExplorerManifest;
  try {
    const parsed = manifestSchema.safeParse(
      JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')),
    );
    if (!parsed.success) return { ready: false, problem: `${MANIFEST_FILE} is malformed` };
    manifest = parsed.data;
  } catch {
    return { ready: false, problem: `${MANIFEST_FILE} is missing or not JSON` };
  }
  const assets = new Map<string, ExplorerAsset>();
  for (const name of new Set([manifest.script, manifest.style, ...manifest.files])) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (contentType === undefined) return { ready: false, problem: `${name}: unknown file type` };
    try {
      assets.set(name, { body: readFileSync(join(dir, name)), contentType });
    } catch {
      return { ready: false, problem: `${name} is missing` };
    }
  }
  return { ready: true, manifest, assets };
}

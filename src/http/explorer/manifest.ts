import { fileURLToPath } from 'node:url';

/**
 * Where `npm run build:explorer` writes the explorer bundle, relative to this module in src/ or
 * dist/. Git-ignored: `npm install` (the `prepare` script) and the Docker build produce it.
 */
export const EXPLORER_BUNDLE_DIR = fileURLToPath(
  new URL('../../../explorer/dist', import.meta.url),
);

/** The bundle's index, `manifest.json`: which hashed files the page loads. */
export interface ExplorerManifest {
  /** The page's script (GraphiQL, React, Monaco), by file name. */
  readonly script: string;
  /** The page's stylesheet. */
  readonly style: string;
  /** Every file of the bundle, the two above and the Monaco workers included. */
  readonly files: ReadonlyArray<string>;
}

export const MANIFEST_FILE = 'manifest.json';

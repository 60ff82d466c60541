/**
 * Bundles the explorer page (GraphiQL, React, Monaco and its workers, their CSS) into
 * explorer/dist, with content-hashed file names and a manifest.json the server reads. Runs from
 * the `prepare` script on `npm install` and `npm ci`, and as `npm run build:explorer`.
 */
import { build, type Metafile, type Plugin } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  EXPLORER_BUNDLE_DIR,
  MANIFEST_FILE,
  type ExplorerManifest,
} from '../src/http/explorer/manifest.js';

const require = createRequire(import.meta.url);
const SOURCE_DIR = fileURLToPath(new URL('.', import.meta.url));

/** Monaco's workers, by the label Monaco asks for (monacoWorkers.js maps labels to files). */
const WORKERS = {
  editor: 'monaco-editor/esm/vs/editor/editor.worker.js',
  json: 'monaco-editor/esm/vs/language/json/json.worker.js',
  graphql: 'monaco-graphql/esm/graphql.worker.js',
} as const;

const COMMON = {
  bundle: true,
  minify: true,
  format: 'iife',
  target: 'es2022',
  entryNames: '[name]-[hash]',
  outdir: EXPLORER_BUNDLE_DIR,
  metafile: true,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
} as const;

/**
 * graphiql/style.css already holds Monaco's styles, codicon font included; the stylesheets
 * Monaco's modules import one by one would only repeat them.
 */
const skipMonacoCss: Plugin = {
  name: 'skip-monaco-css',
  setup(builder) {
    builder.onResolve({ filter: /\.css$/ }, (args) =>
      args.importer.includes('/node_modules/monaco-editor/')
        ? { path: args.path, namespace: 'skipped-css' }
        : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'skipped-css' }, () => ({
      contents: '',
      loader: 'css',
    }));
  },
};

rmSync(EXPLORER_BUNDLE_DIR, { recursive: true, force: true });
mkdirSync(EXPLORER_BUNDLE_DIR, { recursive: true });

const workers = await build({
  ...COMMON,
  entryPoints: Object.entries(WORKERS).map(([label, module]) => ({
    in: require.resolve(module),
    out: `${label}.worker`,
  })),
});
const workerFiles = Object.fromEntries(
  Object.keys(WORKERS).map((label) => [label, outputOf(workers.metafile, `${label}.worker-`)]),
);

const page = await build({
  ...COMMON,
  entryPoints: [{ in: join(SOURCE_DIR, 'app.js'), out: 'app' }],
  define: { ...COMMON.define, __EXPLORER_WORKERS__: JSON.stringify(workerFiles) },
  plugins: [skipMonacoCss],
});

const manifest: ExplorerManifest = {
  script: outputOf(page.metafile, 'app-', '.js'),
  style: outputOf(page.metafile, 'app-', '.css'),
  files: [...Object.keys(workers.metafile.outputs), ...Object.keys(page.metafile.outputs)].map(
    (path) => basename(path),
  ),
};
writeFileSync(join(EXPLORER_BUNDLE_DIR, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);

const outputs = { ...workers.metafile.outputs, ...page.metafile.outputs };
for (const [path, { bytes }] of Object.entries(outputs)) {
  process.stdout.write(`explorer: ${basename(path)} ${(bytes / 1024).toFixed(0)} KiB\n`);
}
process.stdout.write(`explorer: bundle written to ${EXPLORER_BUNDLE_DIR}\n`);

/** The file name of the one output whose name starts with `prefix` and ends with `suffix`. */
function outputOf(metafile: Metafile, prefix: string, suffix = '.js'): string {
  const names = Object.keys(metafile.outputs)
    .map((path) => basename(path))
    .filter((name) => name.startsWith(prefix) && name.endsWith(suffix));
  const [name] = names;
  if (name === undefined || names.length > 1) {
    throw new Error(`explorer build: expected one ${prefix}*${suffix} output, got ${names.length}`);
  }
  return name;
}

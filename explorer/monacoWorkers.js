/* global __EXPLORER_WORKERS__, document, URL, Worker */
// Monaco runs its language services in web workers. GraphiQL's own setups load them from a CDN
// (esm.sh) or through a bundler's worker syntax; this page loads the copies that build.ts bundled
// next to this script, so that every worker comes from this server too (CSP worker-src 'self').

// build.ts replaces this with the bundled workers' file names, e.g. { json: 'json.worker-X.js' }.
const WORKER_FILES = __EXPLORER_WORKERS__;

// Resolved now: document.currentScript is only set while the script first runs.
const scriptUrl = document.currentScript.src;

globalThis.MonacoEnvironment = {
  getWorker(_workerId, label) {
    const file =
      label === 'json' || label === 'graphql' ? WORKER_FILES[label] : WORKER_FILES.editor;
    return new Worker(new URL(file, scriptUrl), { name: label });
  },
};

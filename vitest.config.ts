import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import SkippedTestsReporter from './test/support/skippedTestsReporter.js';

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS entry for dependencies; Vite would pick its .mjs entry for
    // our code, and graphql-js refuses types from two module instances. One entry for both.
    alias: { graphql: fileURLToPath(new URL('node_modules/graphql/index.js', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/globalSetup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Each file gets a database of its own, so files run in parallel safely.
    fileParallelism: true,
    // One file more than there are cores (vitest's default is one fewer): most files spend
    // their time waiting on servers, child processes and sockets, not on the CPU.
    maxWorkers: availableParallelism() + 1,
    // The default reporter, then every skipped test by name (and, in CI, a failed run for any).
    reporters: ['default', new SkippedTestsReporter()],
  },
});

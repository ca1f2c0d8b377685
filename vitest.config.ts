import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const source = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    // The tests run the workspaces' TypeScript sources, never their builds, so that one copy of each
    // module (and class) is loaded; tsconfig.test.json maps the same names for the type check.
    alias: [
      { find: /^hearsay$/, replacement: source('hearsay/src/index.ts') },
      { find: /^hearsay\/(core|serf|wire|sim)$/, replacement: source('hearsay/src/$1/index.ts') },
      { find: /^hearsay-agent\/scripting$/, replacement: source('agent/src/scripting.ts') },
      { find: /^hearsay-experiments$/, replacement: source('experiments/src/index.ts') },
      { find: /^hearsay-experiments\/(names|table|csv|plot)$/, replacement: source('experiments/src/$1.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Most files wait on sockets, timers and child processes rather than compute: two at once
    // even on a two-CPU machine (vitest's default there is one) keeps the suite under ten minutes.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // The default output, and one line per driver the compliance suite ran over.
    reporters: ['default', './test/helpers/compliance-reporter.ts'],
  },
});

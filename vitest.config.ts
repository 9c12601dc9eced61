import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The heavy cases run with `npm run test:slow` (vitest.slow.config.ts).
    exclude: ['test/slow/**', 'test/**/*.slow.test.ts', '**/node_modules/**'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Outside CI, the run ends with the tools it lacked and the apt-get line that brings them.
    reporters: ['default', './test/missing-tools-reporter.ts'],
  },
});

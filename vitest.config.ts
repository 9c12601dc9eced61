import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Outside CI, the run ends with the tools it lacked and the apt-get line that brings them.
    reporters: ['default', './test/missing-tools-reporter.ts'],
  },
});

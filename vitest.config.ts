import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Slow stress and scale cases run with `npm run test:slow` (vitest.slow.config.ts).
    exclude: [...configDefaults.exclude, 'test/**/*.slow.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});

// `npm run test:slow`: the stress and scale cases kept out of `npm test`'s time budget
// (files named test/**/*.slow.test.ts). .ci/run runs them after `npm test`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.slow.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 1_800_000,
    pool: 'forks',
    fileParallelism: false,
  },
});

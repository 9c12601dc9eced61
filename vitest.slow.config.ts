// `npm run test:slow`: stress and rebuild checks too slow for `npm test` (the heavy safety cases:
// GiBs through stdin, gzip bombs, peak RSS; the codec rebuild), run by .ci/run after `npm test`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/slow/**/*.test.ts', 'test/**/*.slow.ts', 'test/**/*.slow.test.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 1_200_000,
    pool: 'forks',
    fileParallelism: false,
  },
});

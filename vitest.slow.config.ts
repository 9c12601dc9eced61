// `npm run test:slow`: the heavy safety cases (GiBs through stdin, gzip bombs, peak RSS), run by
// .ci/run after `npm test`. Kept out of the normal suite, which must stay within minutes.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/slow/**/*.test.ts'],
    testTimeout: 1_200_000,
    hookTimeout: 1_200_000,
    pool: 'forks',
    fileParallelism: false,
  },
});

// Runs src/cli.ts's main() with the test-only looping handlers (test/loop-handlers.ts) put first
// in the registry, so that filter mode's main-thread path meets a handler that never finishes:
//   node --import tsx test/cli-main-thread-driver.ts [detnorm arguments...]
import { HANDLERS } from '../formats/index.js';
import type { Handler } from '../src/types.js';
import loops from './loop-handlers.js';
import { main } from '../src/cli.js';

(HANDLERS as Handler[]).unshift(...loops);
main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`driver: ${(e as Error).stack}\n`);
    process.exitCode = 99;
  },
);

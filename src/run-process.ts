// The process around a command-line run, shared by the main path (src/cli.ts runMain) and the
// filter fast path (src/filter-main.ts): the compile cache, a closed stdout pipe, SIGINT/SIGTERM,
// the exit status, an internal error. `abortPools` stops the worker threads (src/pool.ts
// abortAllPools); the fast path starts none and passes a no-op, so it need not load the pool.
import { enableCompileCache } from './compile-cache.js';
import { removeOwnSpillDirs } from './spill-dir.js';

export function runProcess(main: () => Promise<number>, abortPools: () => Promise<unknown>): void {
  // Before the worker threads and the lazily imported parts (diff, execlog) are compiled.
  enableCompileCache();
  // `detnorm --json dir | head`: a closed pipe ends the output, not with a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  // SIGINT/SIGTERM: stop the workers (never one that is replacing a file), remove their temp
  // files and this run's spill directories, and exit as the signal would have.
  let stopping = false;
  const stop = (signal: NodeJS.Signals, code: number) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`detnorm: ${signal}: stopping; files not finished are left as they were\n`);
    void abortPools()
      .catch(() => {})
      .finally(() => {
        try {
          removeOwnSpillDirs();
        } catch {
          /* best effort */
        }
        process.exit(code);
      });
  };
  process.on('SIGINT', () => stop('SIGINT', 130));
  process.on('SIGTERM', () => stop('SIGTERM', 143));
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      process.stderr.write(`detnorm: internal error: ${(e as Error).stack ?? e}\n`);
      process.exitCode = 3;
    },
  );
}

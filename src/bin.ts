#!/usr/bin/env node
// The bundle's command entry (scripts/bundle.mjs: dist/cli.mjs): with code splitting, src/cli.ts
// is shared with the Bazel worker's chunk, so it cannot tell by its own URL that it is the program.
// `detnorm --version` alone is answered here, before the command line's modules load (start-up,
// issue 20); it prints what commander's --version prints.
declare const __DETNORM_VERSION__: string | undefined;

const args = process.argv.slice(2);
if (typeof __DETNORM_VERSION__ !== 'undefined' && args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${__DETNORM_VERSION__}\n`);
} else {
  void import('./cli.js').then((m) => m.runMain());
}

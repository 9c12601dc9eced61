#!/usr/bin/env node
// The bundle's command entry (scripts/bundle.mjs: dist/cli.mjs): with code splitting, src/cli.ts
// is shared with the Bazel worker's chunk, so it cannot tell by its own URL that it is the program.
// Start-up (issue 20): `detnorm --version` alone is answered here, before the command line's
// modules load (it prints what commander's --version prints); arguments holding a "-" (filter
// mode) go to src/filter-main.ts, which runs the simple ones without commander and the tree
// modules and hands anything else to the full command line (src/cli.ts).
declare const __DETNORM_VERSION__: string | undefined;

const args = process.argv.slice(2);
const full = (): void => void import('./cli.js').then((m) => m.runMain());
if (typeof __DETNORM_VERSION__ !== 'undefined' && args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${__DETNORM_VERSION__}\n`);
} else if (args.includes('-')) {
  void import('./filter-main.js').then((m) => m.runFilterMain(args, full));
} else {
  full();
}

#!/usr/bin/env node
// The bundle's command entry (scripts/bundle.mjs: dist/cli.mjs): with code splitting, src/cli.ts
// is shared with the Bazel worker's chunk, so it cannot tell by its own URL that it is the program.
import { runMain } from './cli.js';

runMain();

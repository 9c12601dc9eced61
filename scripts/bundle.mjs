// npm run bundle: write dist/ — the CLI, the library and the workers as plain .mjs/.js files
// that run with nothing but `node` (no node_modules). Reproducible: the same sources give the
// same bytes (no absolute paths, no dates; esbuild's output is deterministic).
//   dist/cli.mjs             the detnorm command (src/bin.ts, which runs src/cli.ts)
//   dist/api.mjs             the library (import { normalizeBuffer } from 'detnorm')
//   dist/detnorm-worker.mjs  the worker thread (src/worker.ts) the pool (src/pool.ts) starts
//   dist/NAME-HASH.mjs       code the three share, and each lazy handler's code (formats/index.ts,
//                            formats/lazy.ts), loaded by import() when a file of its format is met;
//                            named by module and a hash of the chunk's content (deterministic)
//   dist/codecs/*.wasm       the codec modules (vendor/codecs: xz, zstd, bzip2, lz4), read at run time
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = resolve(root, process.argv[2] ?? 'dist');
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

// CommonJS dependencies (commander, cli-progress) may use __dirname and require: give them both in ESM.
const banner = [
  "import { createRequire as __detnormCreateRequire } from 'node:module';",
  "import { fileURLToPath as __detnormFileURLToPath } from 'node:url';",
  "import { dirname as __detnormDirname } from 'node:path';",
  'const require = __detnormCreateRequire(import.meta.url);',
  'const __filename = __detnormFileURLToPath(import.meta.url);',
  'const __dirname = __detnormDirname(__filename);',
].join('\n');

rmSync(`${out}`, { recursive: true, force: true });
mkdirSync(`${out}`, { recursive: true });
const common = {
  absWorkingDir: root,
  bundle: true,
  // Module paths in the output are relative to the checkout as seen, never resolved elsewhere.
  preserveSymlinks: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  banner: { js: banner },
  legalComments: 'inline',
  logLevel: 'warning',
  define: { __DETNORM_BUNDLE__: 'true', __DETNORM_VERSION__: JSON.stringify(version) },
};
// The command: split, so that a run loads only the handlers it meets (formats/lazy.ts) and the
// parts it uses (diff, execlog, the Bazel worker, the progress bar); chunks sit beside it.
await build({
  ...common,
  entryPoints: { cli: 'src/bin.ts' },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: '[name]-[hash]',
});
// The library and the worker thread, split the same way on their own: the command's chunks
// are not made of what these two share with it, so a command run opens fewer files. A chunk of
// the same content gets the same name in both builds (the same bytes, written twice).
await build({
  ...common,
  entryPoints: { api: 'src/api.ts', 'detnorm-worker': 'src/worker.ts' },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: '[name]-[hash]',
});
mkdirSync(`${out}/codecs`, { recursive: true });
for (const f of readdirSync(resolve(root, 'vendor/codecs')).filter((f) => f.endsWith('.wasm')).sort()) {
  copyFileSync(resolve(root, 'vendor/codecs', f), `${out}/codecs/${f}`);
}
// The libraries' licence notices travel with the modules built from them.
copyFileSync(resolve(root, 'vendor/codecs/LICENSES.md'), `${out}/codecs/LICENSES.md`);
console.log(`bundle: ${out}/cli.mjs, api.mjs, detnorm-worker.mjs, chunks NAME-HASH.mjs, codecs/*.wasm (detnorm ${version})`);

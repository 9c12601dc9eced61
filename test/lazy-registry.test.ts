// Start-up (issue 20): the registry's lazy entries (formats/lazy.ts) stand for their handlers
// exactly, and the bundle's entry points load no handler code before a file of its format is met.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HANDLERS } from '../formats/index.js';
import { realHandler } from '../formats/lazy.js';
import { run, tempDir } from './helpers.js';

const ROOT = new URL('..', import.meta.url).pathname;
const OPTIONAL = ['members', 'compare', 'detectDirectory', 'normalizeDirectory', 'compareDirectory'] as const;

describe('lazy registry: each entry is its handler', () => {
  it('same name, description, extensions, detection functions and optional methods as the handler it loads', async () => {
    let lazy = 0;
    for (const stub of HANDLERS) {
      const real = await realHandler(stub);
      if (real !== stub) lazy++;
      expect(real.name).toBe(stub.name);
      expect(real.description, stub.name).toBe(stub.description);
      expect([...real.extensions], stub.name).toEqual([...stub.extensions]);
      // The very same functions: detection cannot drift from the handler's own.
      expect(real.detect === stub.detect, `${stub.name}: detect`).toBe(true);
      expect(real.detectDirectory === stub.detectDirectory, `${stub.name}: detectDirectory`).toBe(true);
      for (const k of OPTIONAL) expect(typeof stub[k], `${stub.name}: ${k}`).toBe(typeof real[k]);
      expect(stub.wholeInput, `${stub.name}: wholeInput`).toBe(real.wholeInput);
    }
    expect(lazy).toBeGreaterThanOrEqual(10);
  });
});

/** The files a bundle file imports statically, transitively (what loads before any import()). */
function staticClosure(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (f: string) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const m of readFileSync(f, 'utf8').matchAll(/^import\s*(?:[^'"]*?from\s*)?["'](\.[^"']+)["']/gm)) visit(resolve(dirname(f), m[1]!));
  };
  visit(entry);
  // dist/cli.mjs (src/bin.ts) imports the command's module at once, unless it only prints --version.
  const command = /import\("(\.\/cli-[A-Z0-9]+\.mjs)"\)/.exec(readFileSync(entry, 'utf8'));
  if (command) visit(resolve(dirname(entry), command[1]!));
  return [...seen];
}

/** The source modules esbuild put into these files (it marks each with a `// path` line). */
function modulesIn(files: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const f of files) for (const m of readFileSync(f, 'utf8').matchAll(/^\/\/ ((?:src|formats|node_modules)\/\S+)$/gm)) out.add(m[1]!);
  return out;
}

describe('bundle: a run loads only the handlers it meets', () => {
  const { dir, cleanup } = tempDir('detnorm-lazy-');
  afterAll(() => cleanup());
  it('the CLI, the library and the worker load no handler code (but gzip and the other payload codecs), diff, execlog or progress bar at start', () => {
    const out = join(dir, 'dist');
    run(process.execPath, ['scripts/bundle.mjs', out], { cwd: ROOT });
    const heavy = /^(formats\/(zip|tar|cpio|rpm|deb|oci|elf|pe|pyc)\/index\.ts|formats\/ar\.ts|formats\/dwarf\/|node_modules\/cli-progress\/|src\/(diff|execlog|bazel-worker))/;
    for (const entry of ['cli.mjs', 'api.mjs', 'detnorm-worker.mjs']) {
      const mods = modulesIn(staticClosure(join(out, entry)));
      // The marker lines are there (else this test would pass on any bundle).
      expect(mods.has('formats/index.ts'), entry).toBe(true);
      expect(mods.has('formats/zip/detect.ts'), entry).toBe(true);
      expect([...mods].filter((m) => heavy.test(m)), entry).toEqual([]);
    }
    // The worker thread does not load the command line's parser.
    expect([...modulesIn(staticClosure(join(out, 'detnorm-worker.mjs')))].filter((m) => m.startsWith('node_modules/commander/'))).toEqual([]);
    // ... and the handlers' code is in the bundle, in chunks of its own.
    const all = modulesIn(readdirSync(out).filter((f) => f.endsWith('.mjs')).map((f) => join(out, f)));
    for (const m of ['formats/zip/index.ts', 'formats/pe/index.ts', 'formats/oci/index.ts', 'formats/elf/index.ts', 'formats/dwarf/info.ts']) expect(all.has(m), m).toBe(true);
  });
});

// Filter mode's main-thread path (src/cli.ts runStdin, issue 20) gives, for every corpus input,
// the bytes, exit code and report lines of the worker path (`-o OUT -`, a worker thread like any
// file): the same handler code, only another thread. Slow: two CLI runs per input.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';

const ROOT = new URL('../../corpus/', import.meta.url).pathname;
const CLI = new URL('../../dist/cli.mjs', import.meta.url).pathname;
const SIDE = /\.(out|json|error|md|fixed|c|java|py|gitignore|gitattributes)$/;
const { dir, cleanup } = tempDir('detnorm-main-corpus-');
afterAll(() => cleanup());

function inputs(d = ROOT): string[] {
  const out: string[] = [];
  for (const f of readdirSync(d).sort()) {
    const p = join(d, f);
    if (statSync(p).isDirectory()) out.push(...inputs(p));
    else if (!SIDE.test(f) && !f.startsWith('.')) out.push(p);
  }
  return out;
}

const all = inputs().filter((f) => !f.includes('/python_stdlib/') || /\/3\.12\//.test(f));
const lines = (t: string) => t.split('\n').filter(Boolean).sort();

describe('filter mode: the main thread gives what a worker thread gives, on every corpus input', () => {
  it('has cases from every family', () => expect(all.length).toBeGreaterThan(150));
  for (const file of all) {
    it(file.slice(ROOT.length), () => {
      const input = readFileSync(file);
      const env = { ...process.env, SOURCE_DATE_EPOCH: '1423159771' };
      const name = file.slice(file.lastIndexOf('/') + 1).replace(/\.in$/, '');
      const main = spawnSync(process.execPath, [CLI, '--json', '--stdin-name', name, '-'], { input, env, maxBuffer: 1 << 28 });
      const out = join(dir, 'out.bin');
      const worker = spawnSync(process.execPath, [CLI, '--json', '--stdin-name', name, '-o', out, '-'], { input, env, maxBuffer: 1 << 28 });
      expect(main.status).toBe(worker.status);
      expect(Buffer.compare(main.stdout, readFileSync(out))).toBe(0);
      expect(lines(main.stderr.toString())).toEqual(lines(worker.stdout.toString() + worker.stderr.toString()));
    });
  }
});

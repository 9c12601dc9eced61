// Filter mode (`detnorm - < IN > OUT`) runs its one job on the main thread (start-up, issue 20),
// with a watchdog thread as the per-file deadline's backstop (src/watchdog.ts): a handler stuck
// in a synchronous loop that never yields still ends by the deadline, the input untouched on
// stdout, the worker path's report on stderr, exit 3. And the main thread gives the bytes a
// worker gives (test/slow/cli-main-thread-corpus.slow.test.ts does the whole corpus).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';

const ROOT = new URL('..', import.meta.url).pathname;
const DRIVER = new URL('./cli-main-thread-driver.ts', import.meta.url).pathname;
const CLI = new URL('../dist/cli.mjs', import.meta.url).pathname;
const { dir, cleanup } = tempDir('detnorm-main-thread-');
afterAll(() => cleanup());

/** The CLI with the looping test handlers first in its registry; wall time in ms. */
function driver(args: string[], input: Uint8Array) {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', DRIVER, ...args], { cwd: ROOT, input, maxBuffer: 1 << 26, timeout: 30_000 });
  return { status: r.status, signal: r.signal, out: r.stdout, stderr: r.stderr.toString(), ms: Date.now() - t0, pid: r.pid };
}

const spinInput = Buffer.concat([Buffer.from('SPIN'), Buffer.alloc(3000, 7)]);
const readLoopInput = Buffer.concat([Buffer.from('RLOOP'), Buffer.alloc(100, 1)]);
const DEADLINE_LINE = 'detnorm: -: file: not finished within the per-file deadline of 1 s (--deadline); left untouched';

describe('filter mode on the main thread: a handler stuck in a synchronous loop ends by the deadline, input untouched', () => {
  it('stdout is the input byte for byte, stderr the deadline report, exit 3, within the deadline and its grace', () => {
    const r = driver(['--deadline', '1', '-'], spinInput);
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(3);
    expect(Buffer.compare(r.out, spinInput)).toBe(0);
    expect(r.stderr.trim().split('\n')).toEqual([DEADLINE_LINE]);
    // Deadline 1 s + grace 0.25 s, plus the driver's start-up through tsx; never the test's 30 s.
    expect(r.ms).toBeLessThan(15_000);
    // The run's spill directories (stdin's copy among them) are gone.
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith(`detnorm-spill-${r.pid}-`))).toEqual([]);
  });
  it('--json: the record of the worker path, on stderr; --check: nothing on stdout', () => {
    const j = driver(['--json', '--deadline', '1', '-'], spinInput);
    expect(j.status).toBe(3);
    expect(Buffer.compare(j.out, spinInput)).toBe(0);
    const lines = j.stderr.trim().split('\n');
    expect(lines[0]).toBe(DEADLINE_LINE);
    expect(JSON.parse(lines[1]!)).toMatchObject({ path: '-', status: 'error', error: expect.stringMatching(/per-file deadline of 1 s/) });
    const c = driver(['--check', '--deadline', '1', '-'], spinInput);
    expect(c.status).toBe(3);
    expect(c.out.length).toBe(0);
    expect(c.stderr.trim()).toBe(DEADLINE_LINE);
  });
  it('a handler that keeps reading is stopped by the cooperative check (no watchdog needed): same outcome', () => {
    const r = driver(['--deadline', '1', '-'], readLoopInput);
    expect(r.status, r.stderr).toBe(3);
    expect(Buffer.compare(r.out, readLoopInput)).toBe(0);
    expect(r.stderr.trim()).toBe(DEADLINE_LINE);
  });
  it('a job that finishes leaves the watchdog nothing to do: the process ends at once', () => {
    const gz = readFileSync(join(ROOT, 'corpus/gzip/all-fields.gz'));
    const r = driver(['--deadline', '600', '-'], gz);
    expect(r.status, r.stderr).toBe(0);
    expect(r.ms).toBeLessThan(15_000);
  });
});

describe('filter mode: the main thread gives the bytes and reports the worker path (-o) gives', () => {
  it('on a few corpus inputs, one per family', () => {
    const files = pick();
    expect(files.length).toBeGreaterThan(4);
    for (const f of files) {
      const input = readFileSync(f);
      const env = { ...process.env, SOURCE_DATE_EPOCH: '1700000000' };
      const main = spawnSync(process.execPath, [CLI, '--json', '-'], { input, env, maxBuffer: 1 << 28 });
      const out = join(dir, 'o.bin');
      const worker = spawnSync(process.execPath, [CLI, '--json', '-o', out, '-'], { input, env, maxBuffer: 1 << 28 });
      expect(main.status, f).toBe(worker.status);
      expect(Buffer.compare(main.stdout, readFileSync(out)), f).toBe(0);
      // -o prints its JSON record on stdout, filter mode on stderr.
      const lines = (t: string) => t.split('\n').filter(Boolean).sort();
      expect(lines(main.stderr.toString()), f).toEqual(lines(worker.stdout.toString() + worker.stderr.toString()));
    }
  });
});

/** One input of each of several families from the corpus (first file in sorted order). */
function pick(): string[] {
  const out: string[] = [];
  for (const fam of ['zip', 'tar', 'gzip', 'ar', 'deb', 'cpio', 'pyc', 'elf']) {
    const d = join(ROOT, 'corpus', fam);
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      continue;
    }
    const f = names.find((n) => !/\.(out|json|error|md|c|py)$/.test(n) && !n.startsWith('.') && statSync(join(d, n)).isFile());
    if (f) out.push(join(d, f));
  }
  return out;
}

// The library API as a user calls it: import from the package name.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listFormats, normalizeBuffer, normalizeFile, normalizeTree, resolveOptions } from '../src/api.js';
import { run, tempDir } from './helpers.js';

const { dir, cleanup } = tempDir('detnorm-api-');
afterAll(() => cleanup());

const gzWithTime = (content: string, mtime: number) => {
  const b = run('gzip', ['-n', '-6'], { input: Buffer.from(content) });
  b.writeUInt32LE(mtime, 4);
  return b;
};

describe('normalizeBuffer: bytes in, bytes out', () => {
  it('returns the canonical bytes and what changed', async () => {
    const input = gzWithTime('abc', 1234567);
    const r = await normalizeBuffer(input, { name: 'x.gz' });
    expect(r.changed).toBe(true);
    expect(r.format).toBe('gzip');
    expect(Buffer.from(r.output).readUInt32LE(4)).toBe(0);
    expect(r.changes.map((c) => c.kind)).toContain('timestamp');
  });
  it('returns the input itself when nothing changes', async () => {
    const input = run('gzip', ['-n'], { input: Buffer.from('abc') });
    const r = await normalizeBuffer(input);
    expect(r.status).toBe('unchanged');
    expect(r.output).toBe(input);
  });
  it('rejects bad options with a TypeError', () => {
    expect(() => resolveOptions({ timestamp: -1 })).toThrow(TypeError);
    expect(() => resolveOptions({ clamp: true })).toThrow(TypeError);
    expect(() => resolveOptions({ formats: '+nope' })).toThrow();
  });
  it('accepts map paths as strings, pairs or an object', () => {
    const want = [{ from: '/a', to: '/b' }];
    expect(resolveOptions({ mapPaths: ['/a=/b'] }).mapPaths).toEqual(want);
    expect(resolveOptions({ mapPaths: want }).mapPaths).toEqual(want);
    expect(resolveOptions({ mapPaths: { '/a': '/b' } }).mapPaths).toEqual(want);
  });
});

describe('normalizeFile and normalizeTree', () => {
  it('normalizeFile writes in place; check mode writes nothing', async () => {
    const p = join(dir, 'one.gz');
    writeFileSync(p, gzWithTime('one', 99));
    const checked = await normalizeFile(p, { check: true });
    expect(checked.status).toBe('changed');
    expect(readFileSync(p).readUInt32LE(4)).toBe(99);
    const r = await normalizeFile(p);
    expect(r.status).toBe('changed');
    expect(readFileSync(p).readUInt32LE(4)).toBe(0);
  });
  it('normalizeTree with a worker pool reports in sorted order, same as one job', async () => {
    const make = (d: string) => {
      for (let i = 0; i < 30; i++) {
        mkdirSync(join(d, `s${i % 3}`), { recursive: true });
        writeFileSync(join(d, `s${i % 3}`, `f${i}.gz`), gzWithTime(`content ${i}`, 1000 + i));
      }
    };
    const a = join(dir, 'ta');
    const b = join(dir, 'tb');
    make(a);
    make(b);
    const seen: string[] = [];
    const ra = await normalizeTree(a, { jobs: 2, onReport: (r) => seen.push(r.path) });
    const rb = await normalizeTree([b], { jobs: 1 });
    expect(seen).toEqual(ra.reports.map((r) => r.path));
    expect([...seen].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)))).toEqual(seen);
    expect(ra.summary).toEqual({ files: 30, changed: 30, unchanged: 0, untouched: 0, ignored: 0, errors: 0, touched: 0 });
    expect(JSON.stringify(ra.reports).replaceAll(a, 'X')).toBe(JSON.stringify(rb.reports).replaceAll(b, 'X'));
  });
  it('listFormats names every handler', () => {
    expect(listFormats().map((f) => f.name)).toContain('gzip');
  });
});

describe("the package entry: import { ... } from 'detnorm'", () => {
  it('resolves through package.json exports to the compiled API', () => {
    const root = new URL('..', import.meta.url).pathname;
    const out = run(process.execPath, [
      '--input-type=module',
      '-e',
      "import { normalizeBuffer, normalizeFile, normalizeTree } from 'detnorm'; console.log([normalizeBuffer, normalizeFile, normalizeTree].map((f) => typeof f).join())",
    ], { cwd: root }).toString();
    expect(out.trim()).toBe('function,function,function');
  });
});

describe('the README library example (examples/library.mjs) runs', () => {
  it('normalizes a copy of the demo build through buffer, file and tree calls', () => {
    const root = new URL('..', import.meta.url).pathname;
    const out = run(process.execPath, ['examples/library.mjs'], { cwd: root }).toString();
    expect(out).toMatch(/^buffer: gzip changed: MTIME \d+ -> 0/m);
    expect(out).toMatch(/^check: release\.zip would change/m);
    expect(out).toMatch(/^tree: libdemo\.so: elf changed$/m);
    expect(out).toMatch(/^tree: release\.zip: zip unchanged$/m);
    expect(out).toContain('"errors":0');
  });
});

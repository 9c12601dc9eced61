// --map-path and co_filename: the oracle is CPython itself. A package compiled in two
// different directories and mapped to /build/pkg must equal `compileall -d /build/pkg` output
// (both normalized: the body canonical, the header mtime set to T).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeBytes } from '../src/engine.js';
import { defaultOptions } from '../src/options.js';
import { pycHandler } from '../formats/pyc/index.js';
import { mapPath, strVariant } from '../formats/pyc/map-path.js';
import { haveTool, tempDir } from './helpers.js';
import { listFiles, python } from './pyc-python.js';

describe('mapPath: longest prefix at a component boundary', () => {
  const maps = [
    { from: '/tmp/b', to: '/B' },
    { from: '/tmp/b/sub', to: '/S' },
    { from: '/x/', to: '/y/' },
  ];
  it('picks the longest matching OLD', () => {
    expect(mapPath('/tmp/b/sub/m.py', maps)).toBe('/S/m.py');
    expect(mapPath('/tmp/b/other/m.py', maps)).toBe('/B/other/m.py');
    expect(mapPath('/tmp/b', maps)).toBe('/B');
  });
  it('does not match inside a component', () => {
    expect(mapPath('/tmp/bb/m.py', maps)).toBeUndefined();
    expect(mapPath('/tmp/b/subway/m.py', maps)).toBe('/B/subway/m.py');
    expect(mapPath('/x/m.py', maps)).toBe('/y/m.py');
    expect(mapPath('m.py', maps)).toBeUndefined();
  });
  it('picks the variant CPython would use, keeping interned-ness', () => {
    const ascii = (n: number) => Buffer.alloc(n, 0x61);
    expect(String.fromCharCode(strVariant(0x7a, ascii(10)))).toBe('z');
    expect(String.fromCharCode(strVariant(0x7a, ascii(300)))).toBe('a');
    expect(String.fromCharCode(strVariant(0x5a, ascii(300)))).toBe('A');
    expect(String.fromCharCode(strVariant(0x61, ascii(3)))).toBe('z');
    expect(String.fromCharCode(strVariant(0x7a, Buffer.from('é')))).toBe('u');
    expect(String.fromCharCode(strVariant(0x5a, Buffer.from('é')))).toBe('t');
  });
});

const PKG: Record<string, string> = {
  '__init__.py': 'from .mod import f, C\n__all__ = ["f", "C"]\n',
  'mod.py': [
    'import functools',
    'def f(x, *, k=3):',
    '    g = lambda y: y + k',
    '    return [g(i) for i in range(x)], {i: i * 2.5 for i in range(2)}, (1, 2, (3, "four"))',
    'class C:',
    '    """doc"""',
    '    def m(self, a=(1, 2)):',
    '        def inner():',
    '            return a',
    '        return inner',
    '    @functools.cached_property',
    '    def p(self):',
    '        return f(3)',
    '',
  ].join('\n'),
  'sub/__init__.py': '',
  'sub/deep.py': 'async def co():\n    return [x async for x in gen()]\nasync def gen():\n    yield 1\n',
};

function writePkg(dir: string): void {
  for (const [rel, text] of Object.entries(PKG)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
}

describe.skipIf(!haveTool('python3'))('co_filename under --map-path equals compileall -d', () => {
  const tmp = tempDir('detnorm-pyc-map-');
  const short = join(tmp.dir, 'p1', 'pkg');
  const long = join(tmp.dir, 'x'.repeat(120), 'y'.repeat(120), 'pkg'); // co_filename over 255 bytes: 'a' type
  const accented = join(tmp.dir, 'é', 'pkg'); // non-ASCII: 'u' type
  const oracle = (d: string) => join(tmp.dir, `oracle${targets.indexOf(d)}`, 'pkg');
  const targets = ['/build/pkg', '/build/pkgé', `/build/${'l'.repeat(300)}`];
  let pycs: string[] = [];

  beforeAll(() => {
    for (const d of [short, long, accented, ...targets.map(oracle)]) writePkg(d);
    for (const d of [short, long, accented]) python(['-m', 'compileall', '-q', d]);
    for (const t of targets) python(['-m', 'compileall', '-q', '-d', t, oracle(t)]);
    pycs = listFiles(short, (r) => r.endsWith('.pyc'));
  });
  afterAll(() => tmp.cleanup());

  it('compiled the package', () => {
    expect(pycs.length).toBe(4);
    expect(readFileSync(join(long, pycs[1]!)).includes(Buffer.from(long))).toBe(true);
  });

  for (const target of targets) {
    it(`three build directories mapped to ${target.length > 40 ? target.slice(0, 20) + '...' : target} equal the oracle`, async () => {
      for (const r of pycs) {
        const opts = { formats: ['pyc'], timestamp: 1700000000 };
        const want = await normalizeBytes(readFileSync(join(oracle(target), r)), r, defaultOptions(opts), [pycHandler]);
        for (const dir of [short, long, accented]) {
          const got = await normalizeBytes(readFileSync(join(dir, r)), r, defaultOptions({ ...opts, mapPaths: [{ from: dir, to: target }] }), [pycHandler]);
          expect(got.status).toBe('changed');
          expect(Buffer.from(got.output).equals(want.output), `${dir} ${r}`).toBe(true);
          expect(got.changes.some((c) => c.kind === 'path' && c.what.includes(target))).toBe(true);
        }
      }
    });
  }

  it('paths outside every OLD are left alone', async () => {
    const r = pycs[1]!;
    const input = readFileSync(join(short, r));
    const got = await normalizeBytes(input, r, defaultOptions({ formats: ['pyc'], mapPaths: [{ from: '/elsewhere', to: '/build' }] }), [pycHandler]);
    expect(Buffer.from(got.output).includes(Buffer.from(short))).toBe(true);
    expect(got.changes.some((c) => c.kind === 'path')).toBe(false);
  });
});

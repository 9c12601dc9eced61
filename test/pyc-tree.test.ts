// pyc through the core on a real tree (library normalizeTree, in-process): the pyc's recorded
// mtime becomes T and the core gives the source that mtime (the handler's touch request), so
// Python keeps using the pyc; with --pyc-invalidation the core feeds the source through
// ctx.sibling and the pyc becomes hash-based.
import { readFileSync, statSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeTree } from '../src/api.js';
import { haveTool, tempDir } from './helpers.js';
import { python } from './pyc-python.js';

const T = 1500000000;
const SRC = 'def hello():\n    return "hi from the pyc"\n';

function makePkg(dir: string): void {
  mkdirSync(join(dir, 'pkg'), { recursive: true });
  writeFileSync(join(dir, 'pkg', '__init__.py'), '');
  writeFileSync(join(dir, 'pkg', 'mod.py'), SRC);
  utimesSync(join(dir, 'pkg', 'mod.py'), 1600000123, 1600000123);
  python(['-m', 'compileall', '-q', join(dir, 'pkg')]);
}

const importLines = (dir: string) =>
  python(['-B', '-v', '-c', `import sys; sys.path.insert(0, ${JSON.stringify(dir)}); import pkg.mod; print(pkg.mod.hello())`], { allowFail: true });

describe.skipIf(!haveTool('python3'))('pyc in a tree normalized by the core', () => {
  it('timestamp pyc: header mtime T, source mtime T, Python still trusts the pyc', async () => {
    const tmp = tempDir('detnorm-pyc-tree-');
    try {
      makePkg(tmp.dir);
      const pyc = join(tmp.dir, 'pkg/__pycache__/mod.cpython-311.pyc');
      const r = await normalizeTree(tmp.dir, { timestamp: T, jobs: 1 });
      expect(r.summary.errors).toBe(0);
      expect(readFileSync(pyc).readUInt32LE(8)).toBe(T);
      expect(Math.floor(statSync(join(tmp.dir, 'pkg/mod.py')).mtimeMs / 1000)).toBe(T);
      const out = importLines(tmp.dir);
      expect(out).toContain('hi from the pyc');
      expect(out).toMatch(/mod\.cpython-311\.pyc matches .*mod\.py/);
      // A second run changes nothing.
      const again = await normalizeTree(tmp.dir, { timestamp: T, jobs: 1 });
      expect(again.summary.changed).toBe(0);
    } finally {
      tmp.cleanup();
    }
  });

  it('--pyc-invalidation checked-hash: the source is read through the core and hashed', async () => {
    const tmp = tempDir('detnorm-pyc-tree-');
    try {
      makePkg(tmp.dir);
      const pyc = join(tmp.dir, 'pkg/__pycache__/mod.cpython-311.pyc');
      const r = await normalizeTree(tmp.dir, { timestamp: T, jobs: 1, pycInvalidation: 'checked-hash' });
      expect(r.summary.errors).toBe(0);
      expect(readFileSync(pyc).readUInt32LE(4)).toBe(3);
      const hash = python(['-c', `import importlib.util; print(importlib.util.source_hash(open(${JSON.stringify(join(tmp.dir, 'pkg/mod.py'))}, 'rb').read()).hex())`]).trim();
      expect(readFileSync(pyc).subarray(8, 16).toString('hex')).toBe(hash);
      const out = importLines(tmp.dir);
      expect(out).toContain('hi from the pyc');
      expect(out).toMatch(/# code object from '[^']*mod\.cpython-311\.pyc'/);
    } finally {
      tmp.cleanup();
    }
  });
});

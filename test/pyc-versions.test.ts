// pyc across CPython versions: for every other CPython 3.6+ installed beside python3 (pyenv),
// a few stdlib packages compiled by that interpreter in two directories (two hash seeds) normalize to identical
// bytes with --map-path, load to equal objects in that interpreter, and import from their pycs.
// Skipped where no such interpreter exists (CI has python3 only: the 3.11 case is
// test/pyc-stdlib.test.ts; other versions are covered there by the add-determinism corpus).
import { existsSync, mkdirSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { normalizeBytes } from '../src/engine.js';
import { defaultOptions } from '../src/options.js';
import { pycHandler, pycSourceFor, sourceMtimeFor } from '../formats/pyc/index.js';
import { tempDir } from './helpers.js';
import { COMPARE_PY, copyFiles, isDir, listFiles, pyEnv, python } from './pyc-python.js';

const pyenv = `${process.env.HOME ?? '/root'}/.pyenv/versions`;
const versions = existsSync(pyenv) ? readdirSync(pyenv).filter((v) => /^3\.\d+\.\d+$/.test(v) && Number(v.split('.')[1]) >= 6).sort() : [];
const PKGS = ['json', 'email', 'asyncio'];
const tmp = tempDir('detnorm-pyc-versions-');
afterAll(() => tmp.cleanup());

describe.skipIf(versions.length === 0)('other CPython versions', () => {
  for (const v of versions) {
    it(`CPython ${v}: convergence, equal loads, import from pycs`, async () => {
      const exe = `${pyenv}/${v}/bin/python`;
      const stdlib = python(['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])'], { exe }).trim();
      const py = PKGS.filter((p) => isDir(join(stdlib, p))).flatMap((p) => listFiles(join(stdlib, p), (r) => r.endsWith('.py')).map((r) => `${p}/${r}`));
      const A = join(tmp.dir, v, 'first');
      const B = join(tmp.dir, v, 'another/build/dir');
      const N = join(tmp.dir, v, 'normalized');
      for (const d of [A, B, N]) copyFiles(stdlib, d, py);
      for (const r of py) utimesSync(join(B, r), 1650000000, 1650000000);
      // Two hash seeds: before 3.11, frozenset constants come out in hash order (seeds 1 and 3
      // order email/message.py's content-type set differently).
      python(['-m', 'compileall', '-q', A], { exe, allowFail: true, env: pyEnv({ PYTHONHASHSEED: '1' }) });
      python(['-m', 'compileall', '-q', B], { exe, allowFail: true, env: pyEnv({ PYTHONHASHSEED: '3' }) });
      const pycs = listFiles(A, (r) => r.endsWith('.pyc'));
      expect(pycs.length).toBeGreaterThan(50);
      const norm = async (root: string, r: string) => {
        const res = await normalizeBytes(readFileSync(join(root, r)), r, defaultOptions({ formats: ['pyc'], timestamp: 1700000000, pycSortSets: true, mapPaths: [{ from: root, to: '/build/lib' }] }), [pycHandler]);
        if (res.status !== 'changed') throw new Error(`${v} ${r}: ${res.status} ${res.reason}`);
        return res.output;
      };
      const differ: string[] = [];
      for (const r of pycs) {
        const a = await norm(A, r);
        if (!Buffer.from(a).equals(await norm(B, r))) differ.push(r);
        mkdirSync(dirname(join(N, r)), { recursive: true });
        writeFileSync(join(N, r), a);
        const src = pycSourceFor(r);
        const m = sourceMtimeFor(a);
        if (src && m) utimesSync(join(N, src), m.mtime, m.mtime);
      }
      expect(differ).toEqual([]);
      const lines = pycs.map((r) => `${join(A, r)}\t${join(N, r)}\t${A}\t/build/lib`).join('\n');
      expect(python(['-c', COMPARE_PY], { exe, input: lines }).trim()).toBe(`OK ${pycs.length}`);
      const prog = `import sys; sys.path.insert(0, ${JSON.stringify(N)}); import json, email.message, asyncio; print(json.dumps([1]))`;
      const out = python(['-B', '-v', '-c', prog], { exe, allowFail: true });
      expect(out).toContain('[1]');
      expect(out.split('\n').filter((l) => l.includes(' matches ') && l.includes(N)).length).toBeGreaterThan(10);
      expect(out.split('\n').filter((l) => /^# code object from [^']*\.py$/.test(l) && l.includes(N))).toEqual([]);
    });
  }
});

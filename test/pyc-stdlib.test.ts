// pyc against this machine's CPython: the whole standard library compiled twice, in two
// directories with different source mtimes, normalized in-process with --map-path to one path.
// Convergence (all pycs byte-identical), faithfulness (marshal.loads of each normalized pyc
// equals the original's, field by field, co_filename mapped), and the normalized tree imports
// and runs from its pycs.
import { readFileSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeBytes } from '../src/engine.js';
import { defaultOptions } from '../src/options.js';
import { pycHandler, pycSourceFor, sourceMtimeFor } from '../formats/pyc/index.js';
import { haveTool, tempDir } from './helpers.js';
import { COMPARE_PY, copyFiles, listFiles, python } from './pyc-python.js';

const HAVE = haveTool('python3');
const T = 1700000000;
const BUILD = '/build/stdlib';

describe.skipIf(!HAVE)('stdlib compiled twice, normalized with --map-path', () => {
  const tmp = tempDir('detnorm-pyc-stdlib-');
  const A = join(tmp.dir, 'a');
  const B = join(tmp.dir, 'second-build/lib');
  const N = join(tmp.dir, 'normalized');
  let pycs: string[] = [];
  const outA = new Map<string, Uint8Array>();
  const outB = new Map<string, Uint8Array>();

  beforeAll(async () => {
    const stdlib = python(['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"])']).trim();
    const py = listFiles(stdlib, (r) => r.endsWith('.py') && !r.startsWith('site-packages/'));
    copyFiles(stdlib, A, py);
    copyFiles(stdlib, B, py);
    for (const r of py) {
      utimesSync(join(A, r), 1600000000, 1600000000);
      utimesSync(join(B, r), 1650000000, 1650000000);
    }
    // Some test files are deliberately invalid Python: compileall exits 1 for them.
    python(['-m', 'compileall', '-q', '-j', '0', A], { allowFail: true });
    python(['-m', 'compileall', '-q', '-j', '0', B], { allowFail: true });
    pycs = listFiles(A, (r) => r.endsWith('.pyc'));
    copyFiles(A, N, py); // sources for the import test
    for (const [root, out, from] of [[A, outA, A], [B, outB, B]] as const) {
      const options = defaultOptions({ formats: ['pyc'], timestamp: T, mapPaths: [{ from, to: BUILD }] });
      for (const r of pycs) {
        const res = await normalizeBytes(readFileSync(join(root, r)), r, options, [pycHandler]);
        if (res.status === 'error' || res.status === 'untouched') throw new Error(`${r}: ${res.status} ${res.reason}`);
        out.set(r, res.output);
      }
    }
    // The normalized tree: pycs, and sources with the mtime the core would set (sourceMtimeFor).
    for (const r of pycs) {
      mkdirSync(dirname(join(N, r)), { recursive: true });
      const bytes = outA.get(r)!;
      writeFileSync(join(N, r), bytes);
      const src = pycSourceFor(r);
      const m = sourceMtimeFor(bytes);
      if (src && m) utimesSync(join(N, src), m.mtime, m.mtime);
    }
  }, 600_000);
  afterAll(() => tmp.cleanup());

  it('compiled the standard library (well over 1,000 pycs)', () => {
    expect(pycs.length).toBeGreaterThan(1000);
    expect(listFiles(B, (r) => r.endsWith('.pyc'))).toEqual(pycs);
  });

  it('both trees normalize to identical pycs', () => {
    const differ = pycs.filter((r) => !Buffer.from(outA.get(r)!).equals(outB.get(r)!));
    expect(differ).toEqual([]);
    // ...while the inputs did differ (mtime in the header, build path in co_filename).
    expect(readFileSync(join(A, pycs[0]!)).equals(readFileSync(join(B, pycs[0]!)))).toBe(false);
  });

  it('normalizing the normalized pycs changes nothing (idempotence over the stdlib)', async () => {
    const options = defaultOptions({ formats: ['pyc'], timestamp: T, mapPaths: [{ from: A, to: BUILD }] });
    const changed: string[] = [];
    for (const r of pycs) {
      const res = await normalizeBytes(outA.get(r)!, r, options, [pycHandler]);
      if (res.status !== 'unchanged') changed.push(`${r}: ${res.status}`);
    }
    expect(changed).toEqual([]);
  });

  it('each normalized pyc loads to an object equal to the original, co_filename mapped', () => {
    const lines = pycs.map((r) => `${join(A, r)}\t${join(N, r)}\t${A}\t${BUILD}`).join('\n');
    const out = python(['-c', COMPARE_PY], { input: lines });
    expect(out.trim()).toBe(`OK ${pycs.length}`);
  });

  it('the normalized tree imports and runs from its pycs (python -B)', () => {
    const prog = [
      'import sys',
      `sys.path.insert(0, ${JSON.stringify(N)})`,
      'import json, email, asyncio, email.message',
      `assert json.__file__.startswith(${JSON.stringify(N)}), json.__file__`,
      'assert json.loads(json.dumps({"a": [1, 2.5, None]})) == {"a": [1, 2.5, None]}',
      'm = email.message_from_string("Subject: hi\\n\\nbody\\n"); assert m["Subject"] == "hi"',
      'async def f(): await asyncio.sleep(0); return 42',
      'assert asyncio.run(f()) == 42',
      'print("ran")',
    ].join('\n');
    // -v reports "<pyc> matches <py>" for every pyc Python accepts instead of recompiling.
    const r = python(['-B', '-v', '-c', prog], { allowFail: true });
    expect(r).toContain('ran');
    const accepted = r.split('\n').filter((l) => l.includes(' matches ') && l.includes(N));
    for (const mod of ['json/__pycache__/__init__', 'email/__pycache__/message', 'asyncio/__pycache__/base_events']) {
      expect(accepted.some((l) => l.includes(mod)), `${mod} pyc accepted`).toBe(true);
    }
    // A module compiled from source instead ("# code object from /x/y.py", no quotes) = a rejected pyc.
    const fromSource = r.split('\n').filter((l) => /^# code object from [^']*\.py$/.test(l) && l.includes(N));
    expect(fromSource).toEqual([]);
  });
});

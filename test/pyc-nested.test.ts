// pycs inside archives go through the pyc handler by nesting (ctx.normalizeMember): a zip of a
// package compiled in two build directories converges with --map-path, and its pyc member is
// the pyc the handler gives on its own.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeBytes } from '../src/engine.js';
import { defaultOptions } from '../src/options.js';
import { pycHandler } from '../formats/pyc/index.js';
import { haveTool, norm, tempDir } from './helpers.js';
import { python } from './pyc-python.js';

const ZIP_PY = String.raw`
import sys, zipfile
src, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED) as z:
    z.write(src + '/mod.py', 'pkg/mod.py')
    z.write(src + '/__pycache__/mod.cpython-311.pyc', 'pkg/__pycache__/mod.cpython-311.pyc')
`;
const READ_PY = 'import sys, zipfile, io\nz = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))\nprint(z.read("pkg/__pycache__/mod.cpython-311.pyc").hex())';

describe.skipIf(!haveTool('python3'))('pyc inside a zip', () => {
  it('two builds of a zipped package converge, and the member equals the standalone result', async () => {
    const tmp = tempDir('detnorm-pyc-nested-');
    try {
      const zips: Buffer[] = [];
      const dirs = [join(tmp.dir, 'b1'), join(tmp.dir, 'another', 'b2')];
      for (const [i, d] of dirs.entries()) {
        mkdirSync(d, { recursive: true });
        writeFileSync(join(d, 'mod.py'), 'X = (1, 2, "three")\ndef f():\n    return X, "three"\n');
        python(['-m', 'compileall', '-q', d]);
        python(['-c', ZIP_PY, d, join(tmp.dir, `${i}.zip`)]);
        zips.push(readFileSync(join(tmp.dir, `${i}.zip`)));
      }
      const outs = [];
      for (const [i, z] of zips.entries()) {
        const r = await norm(z, 'pkg.zip', { timestamp: 1700000000, mapPaths: [{ from: dirs[i]!, to: '/build/pkg' }] });
        expect(r.status, r.reason).toBe('changed');
        expect(r.changes.some((c) => c.member?.endsWith('mod.cpython-311.pyc') && c.kind === 'path')).toBe(true);
        outs.push(Buffer.from(r.output));
      }
      expect(outs[0]!.equals(outs[1]!)).toBe(true);
      const member = Buffer.from(python(['-c', READ_PY], { input: outs[0]! }).trim(), 'hex');
      const alone = await normalizeBytes(
        readFileSync(join(dirs[0]!, '__pycache__/mod.cpython-311.pyc')),
        'mod.cpython-311.pyc',
        defaultOptions({ formats: ['pyc'], timestamp: 1700000000, mapPaths: [{ from: dirs[0]!, to: '/build/pkg' }] }),
        [pycHandler],
      );
      expect(member.equals(alone.output)).toBe(true);
    } finally {
      tmp.cleanup();
    }
  });
});

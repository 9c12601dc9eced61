// Property tests (fast-check): random trees -> archived by GNU tar or Python tarfile in a
// random format and order -> normalized: idempotent, convergent (another tool, another order,
// other owners and times give the same bytes), content preserved (extracted by GNU tar and
// Python: same contents, link targets, exec bits, hard links). Also .tar.gz through the gzip
// container, and nested members (a gzip inside a tar) normalized.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { haveTool, norm, tempDir } from './helpers.js';
import { describeTree, extractGnu, extractPython, gnuCanonical, gnuPlain, makeTree, pythonTar, type Node } from './tar-helpers.js';

const ok = haveTool('tar') && haveTool('python3') && haveTool('gzip');
const tmp = tempDir('detnorm-tar-prop-');
afterAll(() => tmp.cleanup());
let counter = 0;

const segment = fc.constantFrom('a', 'b', 'B', 'a-b', 'a.b', 'é', 'z z', 'x'.repeat(40), 'y'.repeat(70));
const treeArb = fc
  .array(
    fc.record({
      dirs: fc.array(segment, { maxLength: 2 }),
      leaf: segment,
      kind: fc.constantFrom('file', 'file', 'exe', 'dir', 'symlink', 'hardlink', 'fifo'),
      content: fc.uint8Array({ maxLength: 700 }),
      target: fc.nat(),
    }),
    { minLength: 1, maxLength: 12 },
  )
  .map((items) => {
    const nodes: Node[] = [];
    const used = new Set<string>();
    const files: string[] = [];
    for (const it of items) {
      const path = [...it.dirs, `${it.leaf}${nodes.length}`].join('/');
      // A path must not be used both as a file and as a directory.
      if ([...used].some((u) => u.startsWith(path + '/') || path.startsWith(u + '/'))) continue;
      used.add(path);
      if (it.kind === 'file' || it.kind === 'exe') {
        nodes.push({ path, type: 'file', content: it.content, mode: it.kind === 'exe' ? 0o755 : 0o644 });
        files.push(path);
      } else if (it.kind === 'dir') nodes.push({ path, type: 'dir' });
      else if (it.kind === 'symlink') nodes.push({ path, type: 'symlink', target: `../t${it.target % 5}` });
      else if (it.kind === 'fifo') nodes.push({ path, type: 'fifo' });
      else if (files.length) nodes.push({ path, type: 'hardlink', target: files[it.target % files.length]! });
    }
    return nodes;
  });

type Fmt = 'gnu' | 'posix';
function archive(dir: string, how: number, fmt: Fmt): Buffer {
  switch (how % 3) {
    case 0:
      return gnuPlain(dir, fmt);
    case 1:
      return pythonTar(dir, fmt);
    default:
      return gnuPlain(dir, fmt, ['--owner=4242', '--group=99']);
  }
}

describe.skipIf(!ok)('random trees: idempotent, convergent, content preserved', () => {
  it('holds for GNU tar and Python tarfile archives in gnu and posix formats', async () => {
    await fc.assert(
      fc.asyncProperty(treeArb, fc.nat(5), fc.constantFrom<Fmt>('gnu', 'posix'), fc.boolean(), async (nodes, how, fmt, withT) => {
        const n = counter++;
        const a = join(tmp.dir, `a${n}`);
        const b = join(tmp.dir, `b${n}`);
        makeTree(a, nodes, { mtime: (i) => 1000 + i });
        makeTree(b, [...nodes].reverse().filter((x) => x.type !== 'hardlink').concat(nodes.filter((x) => x.type === 'hardlink')), {
          mtime: (i) => 2_000_000_000 + i,
          owner: [7, 7],
        });
        const opts = withT ? { timestamp: 1_500_000_000 } : {};
        const r1 = await norm(archive(a, how, fmt), 'x.tar', opts);
        expect(r1.status, r1.reason).toMatch(/changed|unchanged/);
        const out = Buffer.from(r1.output);
        // Idempotent.
        const again = await norm(out, 'x.tar', opts);
        expect(again.status).toBe('unchanged');
        // Convergent: another tree build, another tool.
        const r2 = await norm(archive(b, how + 1, fmt), 'x.tar', opts);
        expect(Buffer.from(r2.output).equals(out)).toBe(true);
        // The oracle.
        expect(gnuCanonical(a, fmt, opts.timestamp).equals(out)).toBe(true);
        // Content preserved through both extractors.
        const want = describeTree(a);
        extractGnu(out, join(tmp.dir, `xg${n}`));
        expect(describeTree(join(tmp.dir, `xg${n}`))).toEqual(want);
        extractPython(out, join(tmp.dir, `xp${n}`));
        expect(describeTree(join(tmp.dir, `xp${n}`))).toEqual(want);
      }),
      { numRuns: 10, seed: 7 },
    );
  }, 120_000);
});

describe.skipIf(!ok)('.tar.gz: normalized inside out through the gzip container', () => {
  it('tar czf and Python w:gz (sdist-like) give the zlib-recompressed canonical tar', async () => {
    const d = join(tmp.dir, 'sdist');
    makeTree(d, [
      { path: 'pkg-1.0/setup.py', type: 'file', content: 'from setuptools import setup\nsetup()\n' },
      { path: 'pkg-1.0/pkg/__init__.py', type: 'file', content: '' },
      { path: 'pkg-1.0/PKG-INFO', type: 'file', content: 'Metadata-Version: 2.1\nName: pkg\n' },
    ]);
    const tgz = execFileSync('tar', ['-C', d, '-czf', '-', '.']);
    const pygz = pythonTar(d, 'posix', true);
    // tar czf writes GNU format; Python's pax archive of short ASCII names is ustar-identical.
    // Levels from the inputs' XFL: gzip's default 6 (XFL 0), Python's 9 (XFL 2).
    const cases: Array<[Buffer, Buffer, number]> = [
      [tgz, gnuCanonical(d, 'gnu', 1_500_000_000), 6],
      [pygz, gnuCanonical(d, 'ustar', 1_500_000_000), 9],
    ];
    for (const [input, want, level] of cases) {
      const r = await norm(input, 'pkg-1.0.tar.gz', { timestamp: 1_500_000_000 });
      expect(r.status, r.reason).toBe('changed');
      expect(r.format).toBe('gzip');
      const inner = execFileSync('gzip', ['-dc'], { input: r.output });
      expect(inner.equals(want)).toBe(true);
      execFileSync('gzip', ['-t'], { input: r.output });
      // The deflate stream is stock zlib's at the input's level: Python's zlib is the oracle.
      const deflated = execFileSync('python3', ['-c', 'import zlib,sys\nc=zlib.compressobj(int(sys.argv[1]),zlib.DEFLATED,-15)\nsys.stdout.buffer.write(c.compress(sys.stdin.buffer.read())+c.flush())', String(level)], { input: want });
      expect(Buffer.from(r.output.subarray(10, r.output.length - 8)).equals(deflated)).toBe(true);
      const again = await norm(r.output, 'pkg-1.0.tar.gz', { timestamp: 1_500_000_000 });
      expect(again.status).toBe('unchanged');
    }
  });

  it('a gzip member inside a tar is normalized too (nesting through ctx.normalizeMember)', async () => {
    const d = join(tmp.dir, 'nested');
    makeTree(d, [{ path: 'doc.txt', type: 'file', content: 'hello\n' }]);
    execFileSync('sh', ['-c', `cd ${d} && gzip -k doc.txt && touch -d @12345 doc.txt.gz`]);
    const withName = readFileSync(join(d, 'doc.txt.gz'));
    expect(withName[3]! & 0x08).toBe(0x08); // FNAME set by gzip without -n
    const r = await norm(gnuPlain(d, 'gnu'), 'x.tar', { timestamp: 1 });
    expect(r.changes.some((c) => (c.what ?? '').includes('doc.txt.gz'))).toBe(true);
    const out = join(tmp.dir, 'nested-out');
    extractGnu(r.output, out);
    const gz = readFileSync(join(out, 'doc.txt.gz'));
    expect(gz[3]! & 0x08).toBe(0);
    expect(execFileSync('gzip', ['-dc'], { input: gz }).toString()).toBe('hello\n');
  });
});

// The tar oracle: for a tree archived in any way (GNU tar unsorted with real owners and times,
// members in reverse order, Python tarfile, other owners/modes/times), detnorm's output equals
// GNU tar 1.34's --sort=name --mtime=@T --owner=0 --group=0 --numeric-owner --mode=a=rX,u+w
// archive of the same tree, per format family; outputs are read by tar tvf and Python tarfile
// and extract to the same content, link targets and exec bits.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveTool, norm, tempDir } from './helpers.js';
import {
  describeTree,
  extractGnu,
  extractPython,
  gnuCanonical,
  gnuPlain,
  makeTree,
  pythonList,
  pythonTar,
  tarList,
  walk,
  type Node,
} from './tar-helpers.js';

const T = 1423159771;
const LONG = 'L'.repeat(120);
const BASE: Node[] = [
  { path: 'a.txt', type: 'file', content: 'hello\n', mode: 0o600 },
  { path: 'd1/x', type: 'file', content: 'x' },
  { path: 'd1-x.txt', type: 'file', content: 'y' },
  { path: 'bin/run.sh', type: 'file', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
  { path: 'sub/empty', type: 'dir' },
  { path: 'sub/link', type: 'symlink', target: '../a.txt' },
  { path: 'sub/hard', type: 'hardlink', target: 'a.txt' },
  { path: 'fifo', type: 'fifo' },
  { path: 'héllo wörld.txt', type: 'file', content: 'ü\n' },
  { path: `${'p'.repeat(90)}/${'q'.repeat(30)}/zz`, type: 'file', content: 'deep' },
  { path: 'setgid-dir', type: 'dir', mode: 0o2775 },
];
const LONG_NODES: Node[] = [
  { path: LONG, type: 'file', content: 'long component\n' },
  { path: 'longlink', type: 'symlink', target: 'T'.repeat(105) },
  { path: 'zz-hard-to-long', type: 'hardlink', target: LONG },
];

type Fmt = 'gnu' | 'ustar' | 'posix';
const FORMATS: Fmt[] = ['gnu', 'ustar', 'posix'];

const ok = haveTool('tar') && haveTool('python3');
const tmp = tempDir('detnorm-tar-oracle-');
afterAll(() => tmp.cleanup());

/** Tree A and B: same content; B made in another order with other modes, owners and times. */
function trees(fmt: Fmt, tag: string, timesA: number[]): { a: string; b: string } {
  const nodes = fmt === 'ustar' ? BASE : [...BASE, ...LONG_NODES];
  const a = join(tmp.dir, `${tag}-${fmt}-a`);
  const b = join(tmp.dir, `${tag}-${fmt}-b`);
  makeTree(a, nodes, { mtime: (i) => timesA[i % timesA.length]! });
  const other: Node[] = [...nodes]
    .filter((n) => n.type !== 'hardlink')
    .reverse()
    .map((n) => (n.type === 'file' ? { ...n, mode: n.mode && n.mode & 0o100 ? 0o700 : 0o664 } : n));
  makeTree(b, [...other, ...nodes.filter((n) => n.type === 'hardlink')], { owner: [1234, 5678], mtime: (i) => 1_600_000_000 + i * 7 });
  return { a, b };
}

/** GNU tar given the members in reverse name order (hard links then point the other way). */
function gnuReversed(dir: string, fmt: Fmt): Buffer {
  const paths = walk(dir)
    .map((p) => (p === '.' ? '.' : `./${p}`))
    .reverse();
  return execFileSync('tar', ['-C', dir, `--format=${fmt}`, '--no-recursion', '-cf', '-', ...paths], { maxBuffer: 1 << 28 });
}

async function normalized(input: Uint8Array, opts: { timestamp?: number; clamp?: boolean } = {}): Promise<Buffer> {
  const r = await norm(input, 'x.tar', { timestamp: opts.timestamp, clamp: opts.clamp ?? false });
  expect(r.status, r.reason).toMatch(/changed|unchanged/);
  return Buffer.from(r.output);
}

describe.skipIf(!ok)('oracle: output equals GNU tar --sort=name reproducible archive of the same tree', () => {
  for (const fmt of FORMATS) {
    describe(`--format=${fmt}`, () => {
      let a = '';
      let b = '';
      let inputs: Array<[string, Buffer]> = [];
      beforeAll(() => {
        // Raw times inside what every format can hold (ustar cannot hold negative times).
        ({ a, b } = trees(fmt, 'plain', [0, 315532800, 1_700_000_000, 4_102_444_800]));
        inputs = [
          ['GNU tar, unsorted, real owners', gnuPlain(a, fmt)],
          ['GNU tar, tree B (other order/modes/owners/times)', gnuPlain(b, fmt)],
          ['GNU tar, members in reverse order', gnuReversed(a, fmt)],
          ['Python tarfile, tree A', pythonTar(a, fmt)],
          ['Python tarfile, tree B', pythonTar(b, fmt)],
        ];
        if (fmt !== 'ustar') inputs.push(['GNU tar, uid/gid > 2^21', gnuPlain(a, fmt, ['--owner=nobody:300000', '--group=nogroup:400000'])]);
      });

      it('GNU tar itself gives the same canonical archive for trees A and B', () => {
        expect(gnuCanonical(a, fmt, T).equals(gnuCanonical(b, fmt, T))).toBe(true);
      });

      it('every archive of the tree normalizes to GNU tar output with T', async () => {
        const want = gnuCanonical(a, fmt, T);
        for (const [what, input] of inputs) {
          const out = await normalized(input, { timestamp: T });
          expect(out.equals(want), `${fmt}: ${what}`).toBe(true);
        }
      });

      it('without T, mtimes become 0 (GNU tar --mtime=@0)', async () => {
        const want = gnuCanonical(a, fmt, undefined);
        for (const [what, input] of inputs) expect((await normalized(input)).equals(want), `${fmt}: ${what}`).toBe(true);
      });

      it('idempotent: the canonical archive comes back unchanged', async () => {
        const r = await norm(gnuCanonical(a, fmt, T), 'x.tar', { timestamp: T });
        expect(r.status).toBe('unchanged');
      });

      it('tar tvf and Python tarfile read the output; extracted trees keep content, link targets, exec bits', async () => {
        const out = await normalized(inputs[2]![1], { timestamp: T });
        expect(tarList(out)).toContain('sub/hard link to ./a.txt');
        expect(pythonList(out).length).toBe(walk(a).length);
        const want = describeTree(a);
        const g = join(tmp.dir, `x-gnu-${fmt}`);
        extractGnu(out, g);
        expect(describeTree(g)).toEqual(want);
        const p = join(tmp.dir, `x-py-${fmt}`);
        extractPython(out, p);
        expect(describeTree(p)).toEqual(want);
      });
    });
  }
});

describe.skipIf(!ok)('oracle with --clamp: only times later than T become T (GNU --clamp-mtime)', () => {
  for (const fmt of FORMATS) {
    it(`--format=${fmt}`, async () => {
      // Whole seconds: GNU tar writes a pax mtime record for a fraction, which we drop (README).
      const times = fmt === 'ustar' ? [100, 315532800, 4_102_444_800] : [-300_000_000, 100, 315532800, 4_102_444_800, 9_000_000_000];
      const { a } = trees(fmt, 'clamp', times);
      const want = gnuCanonical(a, fmt, T, true);
      for (const input of [gnuPlain(a, fmt), pythonTar(a, fmt)]) {
        expect((await normalized(input, { timestamp: T, clamp: true })).equals(want)).toBe(true);
      }
    });
  }
});

describe.skipIf(!ok)('pre-1980 and far-future mtimes in the input (GNU base-256, pax records)', () => {
  it('gnu and posix archives with negative and post-2242 mtimes normalize to the oracle', async () => {
    for (const fmt of ['gnu', 'posix'] as const) {
      const { a } = trees(fmt, 'far', [-300_000_000, 9_000_000_000, 0]);
      const raw = gnuPlain(a, fmt);
      // The raw archive really holds them: GNU base-256 (0x80/0xff) or a pax mtime record.
      if (fmt === 'gnu') expect(raw.includes(Buffer.from([0xff, 0xff, 0xff, 0xff]))).toBe(true);
      else expect(raw.includes(Buffer.from('mtime=-300000000'))).toBe(true);
      expect((await normalized(raw, { timestamp: T })).equals(gnuCanonical(a, fmt, T))).toBe(true);
    }
  });
});

describe.skipIf(!ok)('convergence: the same tree archived every way gives one archive per family', () => {
  it('all inputs of a family normalize to identical bytes; families differ', async () => {
    const outs: Buffer[] = [];
    for (const fmt of ['gnu', 'posix'] as const) {
      const { a, b } = trees(fmt, 'conv', [5, 6]);
      const set = new Set<string>();
      for (const input of [gnuPlain(a, fmt), gnuPlain(b, fmt), pythonTar(a, fmt), pythonTar(b, fmt), gnuReversed(b, fmt)]) {
        set.add((await normalized(input, { timestamp: T })).toString('base64'));
      }
      expect(set.size).toBe(1);
      outs.push(Buffer.from([...set][0]!, 'base64'));
    }
    expect(outs[0]!.equals(outs[1]!)).toBe(false);
  });
});

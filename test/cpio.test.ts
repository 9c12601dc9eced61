// cpio (newc, crc, odc, bin): the oracle is GNU cpio 2.13 `-o -H <fmt> --reproducible` over
// the same files listed in sorted order after setting mtimes to T, owners to 0:0 and modes
// to a=rX,u+w. Also the strip-nondeterminism fixture, concatenated (initramfs-like) archives,
// --map-path on symlinks (tar too), and bad input.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PEER, haveTool, norm, tempDir } from './helpers.js';
import { describeTree, extractGnu, makeTree, type Node } from './tar-helpers.js';

const ok = haveTool('cpio') && haveTool('tar');
const tmp = tempDir('detnorm-cpio-');
afterAll(() => tmp.cleanup());
const T = 1423159771;

const NODES: Node[] = [
  { path: 'a', type: 'file', content: 'hello\n', mode: 0o600 },
  { path: 'd/hl', type: 'hardlink', target: 'a' },
  { path: 'd/x.sh', type: 'file', content: '#!/bin/sh\n', mode: 0o750 },
  { path: 'e', type: 'dir', mode: 0o2775 },
  { path: 'sym', type: 'symlink', target: 'a' },
  { path: 'ff', type: 'fifo' },
  { path: 'ünï', type: 'file', content: 'x' },
  { path: 'z/b', type: 'file', content: 'data' },
  { path: 'z/c', type: 'hardlink', target: 'z/b' },
  { path: 'z/a', type: 'hardlink', target: 'z/b' },
];

function cpioOut(dir: string, fmt: string, sorted: boolean, extra: string[] = []): Buffer {
  return execFileSync('sh', ['-c', `cd "$1" && find . ${sorted ? '| LC_ALL=C sort' : ''} | cpio -o --quiet -H ${fmt} ${extra.join(' ')}`, 'sh', dir], { maxBuffer: 1 << 28 });
}

let oracleCount = 0;
/** The oracle tree: owners 0, modes a=rX,u+w, mtimes T; then cpio --reproducible, sorted. */
function oracle(dir: string, fmt: string, t: number): Buffer {
  const o = join(tmp.dir, `oracle-${fmt}-${t}-${oracleCount++}`);
  execFileSync('cp', ['-a', dir, o]);
  execFileSync('sh', ['-c', `chown -hR 0:0 "$1" && chmod -R a=rX,u+w "$1" && find "$1" -exec touch -h -d @${t} {} +`, 'sh', o]);
  return cpioOut(o, fmt, true, ['--reproducible']);
}

describe.skipIf(!ok)('oracle: GNU cpio --reproducible of the canonical tree', () => {
  const src = join(tmp.dir, 'src');
  makeTree(src, NODES, { owner: [1000, 100], mtime: (i) => 1_600_000_000 + i });
  for (const fmt of ['newc', 'crc', 'odc', 'bin']) {
    it(`-H ${fmt}: unsorted, real owners/times/inodes -> equal to the oracle (with T and without)`, async () => {
      const raw = cpioOut(src, fmt, false);
      for (const t of [T, undefined]) {
        const r = await norm(raw, 'x.cpio', { timestamp: t });
        expect(r.status, r.reason).toBe('changed');
        expect(r.format).toBe('cpio');
        expect(Buffer.from(r.output).equals(oracle(src, fmt, t ?? 0))).toBe(true);
        const again = await norm(r.output, 'x.cpio', { timestamp: t });
        expect(again.status).toBe('unchanged');
      }
    });
  }
  it('GNU cpio extracts the output with the same content, links and exec bits', async () => {
    const r = await norm(cpioOut(src, 'newc', false), 'x.cpio', { timestamp: T });
    const out = join(tmp.dir, 'extracted');
    execFileSync('sh', ['-c', `mkdir -p "$1" && cd "$1" && cpio -id --quiet`, 'sh', out], { input: r.output });
    expect(describeTree(out)).toEqual(describeTree(src));
  });
});

describe.skipIf(!ok)('strip-nondeterminism fixture (binary cpio) as input', () => {
  it('normalizes to GNU cpio -H bin --reproducible of the same file', async () => {
    const input = readFileSync(join(PEER, 'strip-nondeterminism/cpio/test.cpio.in'));
    const r = await norm(input, 'test.cpio', { timestamp: T });
    expect(r.status).toBe('changed');
    const d = join(tmp.dir, 'peer');
    makeTree(d, [{ path: 'test', type: 'file', content: 'test\n' }]);
    execFileSync('touch', ['-d', `@${T}`, join(d, 'test')]);
    const want = execFileSync('sh', ['-c', 'cd "$1" && echo test | cpio -o --quiet -H bin --reproducible', 'sh', d]);
    expect(Buffer.from(r.output).equals(want)).toBe(true);
  });
});

describe.skipIf(!ok)('concatenated archives (initramfs-like)', () => {
  it('each segment normalized; a gzip tail goes through the gzip handler', async () => {
    const s1 = join(tmp.dir, 'seg1');
    const s2 = join(tmp.dir, 'seg2');
    makeTree(s1, [{ path: 'kernel/x86/microcode/a.bin', type: 'file', content: 'ucode' }], { mtime: () => 5 });
    makeTree(s2, [{ path: 'init', type: 'file', content: '#!/bin/sh\n', mode: 0o755 }], { mtime: () => 6 });
    const c1 = cpioOut(s1, 'newc', false);
    const c2 = cpioOut(s2, 'newc', false);
    const gz = execFileSync('gzip', ['-c'], { input: c2 }); // FNAME-less, MTIME 0 from a pipe
    const r = await norm(Buffer.concat([c1, gz]), 'initrd.img', { timestamp: T });
    expect(r.status, r.reason).toBe('changed');
    const o1 = oracle(s1, 'newc', T);
    expect(Buffer.from(r.output.subarray(0, o1.length)).equals(o1)).toBe(true);
    const inner = execFileSync('gzip', ['-dc'], { input: r.output.subarray(o1.length) });
    expect(inner.equals(oracle(s2, 'newc', T))).toBe(true);
  });
});

describe.skipIf(!ok)('--map-path rewrites symlink and hard-link targets under OLD', () => {
  it('tar: absolute symlinks into a build directory; relative ones untouched', async () => {
    const d = join(tmp.dir, 'mp');
    makeTree(d, [
      { path: 'out/lib', type: 'symlink', target: '/home/u/.cache/bazel/1234abcd/execroot/ws/lib' },
      { path: 'out/rel', type: 'symlink', target: '../x' },
    ]);
    const tarIn = execFileSync('tar', ['-C', d, '--format=gnu', '-cf', '-', '.']);
    const r = await norm(tarIn, 'x.tar', { timestamp: 1, mapPaths: [{ from: '/home/u/.cache/bazel/1234abcd/execroot/ws', to: '/ws' }] });
    expect(r.changes.some((c) => c.kind === 'path')).toBe(true);
    const x = join(tmp.dir, 'mp-x');
    extractGnu(r.output, x);
    expect(describeTree(x)).toEqual({ out: 'dir', 'out/lib': 'symlink -> /ws/lib', 'out/rel': 'symlink -> ../x' });
  });
  it('cpio: symlink data rewritten', async () => {
    const d = join(tmp.dir, 'mpc');
    makeTree(d, [{ path: 'l', type: 'symlink', target: '/build/abc/lib.so' }]);
    const r = await norm(cpioOut(d, 'newc', false), 'x.cpio', { mapPaths: [{ from: '/build/abc', to: '/usr' }] });
    expect(Buffer.from(r.output).includes(Buffer.from('/usr/lib.so'))).toBe(true);
    expect(Buffer.from(r.output).includes(Buffer.from('/build/abc'))).toBe(false);
  });
});

describe.skipIf(!ok)('bad cpio input', () => {
  it('truncated, bad hex, unterminated name: FormatError, untouched', async () => {
    const d = join(tmp.dir, 'bad');
    makeTree(d, [{ path: 'f', type: 'file', content: 'content' }]);
    const c = cpioOut(d, 'newc', true);
    for (const [bytes, why] of [
      [c.subarray(0, 50), /truncated cpio header/],
      [Buffer.concat([c.subarray(0, 120), Buffer.from('x')]), /truncated/],
      [Buffer.from(Buffer.from(c).fill(0x47, 20, 21)), /bad cpio/],
    ] as const) {
      const r = await norm(bytes, 'x.cpio');
      expect(r.status).toBe('error');
      expect(r.reason).toMatch(why);
      expect(Buffer.from(r.output).equals(Buffer.from(bytes))).toBe(true);
    }
  });
});

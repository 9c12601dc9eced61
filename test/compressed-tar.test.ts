// Issue 15's oracle for compressed tars: two builds of one tree (other clock, owners, modes,
// member order) piped through GNU tar and the reference compressors of Debian 12 come out of
// detnorm byte-identical, and equal to the reproducible GNU tar archive compressed by the same
// CLI at the setting the level rule picks: `xz -6 -T1` / `xz -6 -T2` (multi-threaded layout),
// `zstd -19` / `zstd -3`, `bzip2 -9` / `bzip2 -1` / `pbzip2`, `lz4 -9` / `lz4 -l -9`.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { haveTool, norm, tempDir } from './helpers.js';
import { gnuCanonical, gnuPlain, makeTree, type Node } from './tar-helpers.js';

const T = 1700000000;
const tmp = tempDir('detnorm-ctar-');
afterAll(() => tmp.cleanup());

// Enough text that the payloads span several blocks of every codec's small settings.
const big = Array.from({ length: 1500 }, (_, i) => `line ${i} ${'lorem ipsum dolor '.repeat(i % 7)}\n`).join('');
const NODES: Node[] = [
  { path: 'README', type: 'file', content: 'hello\n' },
  { path: 'src/big.txt', type: 'file', content: big },
  { path: 'src/run.sh', type: 'file', content: '#!/bin/sh\necho hi\n', mode: 0o755 },
  { path: 'src/link', type: 'symlink', target: 'big.txt' },
  { path: 'empty', type: 'dir' },
];

function trees(tag: string): { a: string; b: string } {
  const a = join(tmp.dir, `${tag}-a`);
  const b = join(tmp.dir, `${tag}-b`);
  makeTree(a, NODES, { mtime: (i) => 1_500_000_000 + i });
  makeTree(b, [...NODES].reverse().map((n) => (n.type === 'file' && !n.mode ? { ...n, mode: 0o664 } : n)), { owner: [1234, 5678], mtime: (i) => 1_600_000_000 + i * 7 });
  return { a, b };
}

function pipe(cmd: string, args: string[], input: Uint8Array): Buffer {
  return execFileSync(cmd, args, { input, maxBuffer: 1 << 28 });
}

interface Case {
  readonly name: string;
  readonly tool: string;
  /** The compressor as the build uses it (through a pipe, as `tar -I` does). */
  readonly build: string[];
  /** The oracle's compressor on the reproducible tar. */
  readonly oracle: string[];
  readonly ext: string;
}

const CASES: Case[] = [
  { name: 'xz -T1 (one block)', tool: 'xz', build: ['xz', '-T1'], oracle: ['xz', '-6', '-T1'], ext: 'tar.xz' },
  { name: 'xz -7e -T1 (dictionary 16 MiB kept)', tool: 'xz', build: ['xz', '-7e', '-T1'], oracle: ['xz', '-6', '-T1', '--lzma2=preset=6,dict=16MiB'], ext: 'tar.xz' },
  { name: 'xz -T2 --block-size (multi-threaded layout kept)', tool: 'xz', build: ['xz', '-T2', '--block-size=20000'], oracle: ['xz', '-6', '-T2', '--block-size=20000'], ext: 'txz' },
  { name: 'xz --check=crc32 --x86 (filters and check kept)', tool: 'xz', build: ['xz', '-T1', '--check=crc32', '--x86', '--lzma2=preset=1'], oracle: ['xz', '-T1', '--check=crc32', '--x86', '--lzma2=preset=6,dict=1MiB'], ext: 'tar.xz' },
  { name: 'zstd -19 through a pipe', tool: 'zstd', build: ['zstd', '-19', '-q'], oracle: ['zstd', '-19', '-q'], ext: 'tar.zst' },
  { name: 'zstd (level 3 by the window rule)', tool: 'zstd', build: ['zstd', '-q', '--no-check'], oracle: ['zstd', '-3', '-q', '--no-check'], ext: 'tzst' },
  { name: 'bzip2 -9', tool: 'bzip2', build: ['bzip2', '-9'], oracle: ['bzip2', '-9'], ext: 'tar.bz2' },
  { name: 'bzip2 -1 (block size kept)', tool: 'bzip2', build: ['bzip2', '-1'], oracle: ['bzip2', '-1'], ext: 'tbz2' },
  { name: 'pbzip2 -b1 (layout kept)', tool: 'pbzip2', build: ['pbzip2', '-9', '-b1', '-p2', '-c'], oracle: ['pbzip2', '-9', '-b1', '-p2', '-c'], ext: 'tar.bz2' },
  { name: 'lz4 -9 frame', tool: 'lz4', build: ['lz4', '-q', '-1', '-B4', '-BD', '-c'], oracle: ['lz4', '-q', '-9', '-B4', '-BD', '-c'], ext: 'tar.lz4' },
  { name: 'lz4 -l (legacy format)', tool: 'lz4', build: ['lz4', '-q', '-l', '-1', '-c'], oracle: ['lz4', '-q', '-l', '-9', '-c'], ext: 'tar.lz4' },
];

describe('two builds converge and equal the reference CLI on the reproducible tar', () => {
  for (const c of CASES) {
    it.skipIf(!haveTool('tar') || !haveTool(c.tool))(c.name, async () => {
      const { a, b } = trees(c.name.replace(/\W+/g, '_'));
      const builds = [gnuPlain(a, 'gnu'), gnuPlain(b, 'gnu')].map((t) => pipe(c.build[0]!, c.build.slice(1), t));
      expect(builds[0]!.equals(builds[1]!)).toBe(false);
      const outs = [];
      for (const x of builds) {
        const r = await norm(x, `pkg.${c.ext}`, { timestamp: T });
        expect(r.status, r.reason).toBe('changed');
        expect(r.changes.some((ch) => ch.kind === 'compression')).toBe(true);
        outs.push(Buffer.from(r.output));
      }
      expect(outs[0]!.equals(outs[1]!)).toBe(true);
      const oracle = pipe(c.oracle[0]!, c.oracle.slice(1), gnuCanonical(a, 'gnu', T));
      expect(outs[0]!.equals(oracle)).toBe(true);
      // Idempotent: the output is already canonical (its payload is kept, so are its bytes).
      const again = await norm(outs[0]!, `pkg.${c.ext}`, { timestamp: T });
      expect(again.status).toBe('unchanged');
    });
  }
});

describe('an unchanged payload keeps its compressed bytes as they are', () => {
  it.skipIf(!haveTool('tar') || !haveTool('xz') || !haveTool('zstd'))('a reproducible tar compressed any way is left alone', async () => {
    const { a } = trees('unchanged');
    const canonical = gnuCanonical(a, 'gnu', T);
    for (const [cmd, ...args] of [['xz', '-1', '-T2'], ['zstd', '-7', '-q'], ['bzip2', '-3'], ['lz4', '-q', '-1', '-c']] as const) {
      const x = pipe(cmd, args, canonical);
      const r = await norm(x, 'x.tar.c', { timestamp: T });
      expect(r.status, `${cmd}: ${r.reason}`).toBe('unchanged');
    }
  });
});

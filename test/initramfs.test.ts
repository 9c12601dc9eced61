// initramfs images (issue 15): a concatenation of cpio archives, some compressed, as the
// kernel's usr/gen_init_cpio + a compressor and Android's mkbootfs + `lz4 -l` make them, and as
// dracut adds an uncompressed early cpio (microcode) in front. Each segment is normalized, the
// order is kept, a recompressed segment uses the reference CLI's output, and two builds converge.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { haveTool, norm, tempDir } from './helpers.js';
import { makeTree, type Node } from './tar-helpers.js';

const T = 1423159771;
const ok = haveTool('cpio') && haveTool('xz') && haveTool('zstd') && haveTool('lz4') && haveTool('gzip');
const tmp = tempDir('detnorm-initramfs-');
afterAll(() => tmp.cleanup());

function cpio(dir: string, extra = ''): Buffer {
  return execFileSync('sh', ['-c', `cd "$1" && find . | cpio -o --quiet -H newc ${extra}`, 'sh', dir], { maxBuffer: 1 << 28 });
}
function pipe(cmd: string, args: string[], input: Uint8Array): Buffer {
  return execFileSync(cmd, args, { input, maxBuffer: 1 << 28 });
}
let n = 0;
/** GNU cpio --reproducible of the canonical tree (owners 0, modes a=rX,u+w, mtimes T, sorted). */
function canonical(dir: string): Buffer {
  const o = join(tmp.dir, `canon-${n++}`);
  execFileSync('cp', ['-a', dir, o]);
  execFileSync('sh', ['-c', `chown -hR 0:0 "$1" && chmod -R a=rX,u+w "$1" && find "$1" -exec touch -h -d @${T} {} +`, 'sh', o]);
  return execFileSync('sh', ['-c', 'cd "$1" && find . | LC_ALL=C sort | cpio -o --quiet -H newc --reproducible', 'sh', o]);
}

const UCODE: Node[] = [{ path: 'kernel/x86/microcode/GenuineIntel.bin', type: 'file', content: 'ucode'.repeat(100) }];
const MAIN: Node[] = [
  { path: 'init', type: 'file', content: '#!/bin/sh\nexec /sbin/init\n', mode: 0o755 },
  { path: 'etc/fstab', type: 'file', content: 'none\n' },
  { path: 'bin/sh', type: 'symlink', target: 'busybox' },
  { path: 'bin/busybox', type: 'file', content: 'ELF'.repeat(5000), mode: 0o755 },
];
const EXTRA: Node[] = [{ path: 'lib/modules/x.ko', type: 'file', content: 'module'.repeat(2000) }];

function trees(tag: string, owner?: [number, number], base = 1_600_000_000): { ucode: string; main: string; extra: string } {
  const d = (x: string) => join(tmp.dir, `${tag}-${x}`);
  makeTree(d('ucode'), UCODE, { owner, mtime: (i) => base + i });
  makeTree(d('main'), owner ? [...MAIN].reverse() : MAIN, { owner, mtime: (i) => base + 2 * i });
  makeTree(d('extra'), EXTRA, { owner, mtime: (i) => base + 3 * i });
  return { ucode: d('ucode'), main: d('main'), extra: d('extra') };
}

describe.skipIf(!ok)('segments normalized, order kept, two builds converge', () => {
  // [early cpio][xz --check=crc32 cpio (the kernel's)][zeros][lz4 -l cpio (Android)][zstd cpio]
  const image = (t: { ucode: string; main: string; extra: string }) =>
    Buffer.concat([
      cpio(t.ucode),
      pipe('xz', ['--check=crc32', '--lzma2=dict=1MiB', '-T1'], cpio(t.main)),
      Buffer.alloc(12),
      pipe('lz4', ['-q', '-l', '-1', '-c'], cpio(t.extra)),
      pipe('zstd', ['-q', '-19'], cpio(t.main)),
    ]);
  it('equals the canonical segments compressed by the reference CLIs', async () => {
    const a = trees('a');
    const b = trees('b', [1234, 5678], 1_700_000_000);
    const outs: Buffer[] = [];
    for (const t of [a, b]) {
      const r = await norm(image(t), 'initrd.img', { timestamp: T });
      expect(r.status, r.reason).toBe('changed');
      expect(r.format).toBe('cpio');
      outs.push(Buffer.from(r.output));
    }
    expect(outs[0]!.equals(outs[1]!)).toBe(true);
    const xzSeg = pipe('xz', ['--check=crc32', '--lzma2=preset=6,dict=1MiB', '-T1'], canonical(a.main));
    const early = canonical(a.ucode);
    // The 12 zeros after the xz segment are kept; the lz4 segment follows them.
    const want = Buffer.concat([early, xzSeg, Buffer.alloc(12), pipe('lz4', ['-q', '-l', '-9', '-c'], canonical(a.extra)), pipe('zstd', ['-q', '-19'], canonical(a.main))]);
    expect(outs[0]!.equals(want)).toBe(true);
    const again = await norm(outs[0]!, 'initrd.img', { timestamp: T });
    expect(again.status).toBe('unchanged');
  });
  it('an Android ramdisk (one lz4 legacy stream) and a kernel initramfs.cpio.gz', async () => {
    const a = trees('android');
    const lz = await norm(pipe('lz4', ['-q', '-l', '-12', '-c'], cpio(a.main)), 'ramdisk.img', { timestamp: T });
    expect(lz.format).toBe('lz4');
    expect(Buffer.from(lz.output).equals(pipe('lz4', ['-q', '-l', '-9', '-c'], canonical(a.main)))).toBe(true);
    const gz = await norm(pipe('gzip', ['-9'], cpio(a.main)), 'initramfs.cpio.gz', { timestamp: T });
    expect(gz.format).toBe('gzip');
    expect(Buffer.from(pipe('gzip', ['-dc'], gz.output)).equals(canonical(a.main))).toBe(true);
  });
  it('a corrupt compressed segment is kept as it is, the rest normalized, with a notice', async () => {
    const a = trees('corrupt');
    const bad = pipe('xz', ['-T1'], cpio(a.main));
    bad[bad.length - 20] ^= 0xff;
    const r = await norm(Buffer.concat([cpio(a.ucode), bad]), 'initrd.img', { timestamp: T });
    expect(r.status).toBe('changed');
    const early = canonical(a.ucode);
    expect(Buffer.from(r.output.subarray(0, early.length)).equals(early)).toBe(true);
    expect(Buffer.from(r.output.subarray(early.length)).equals(bad)).toBe(true);
    expect(r.notices.join('\n')).toMatch(/kept as they are/);
  });
});

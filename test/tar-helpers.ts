// Test helpers for the tar and cpio families: build trees on disk, archive them with GNU tar,
// Python tarfile and GNU cpio, extract and describe trees for comparison.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, linkSync, writeFileSync, lchownSync } from 'node:fs';
import { join } from 'node:path';

export type Node =
  | { path: string; type: 'file'; content: string | Uint8Array; mode?: number }
  | { path: string; type: 'dir'; mode?: number }
  | { path: string; type: 'symlink'; target: string }
  | { path: string; type: 'hardlink'; target: string }
  | { path: string; type: 'fifo' };

/** Create the nodes under `root` in the given order; then set owners and times if asked. */
export function makeTree(root: string, nodes: readonly Node[], opts: { mtime?: (i: number) => number; owner?: [number, number] } = {}): void {
  mkdirSync(root, { recursive: true });
  for (const n of nodes) {
    const p = join(root, n.path);
    mkdirSync(join(p, '..'), { recursive: true });
    switch (n.type) {
      case 'file':
        writeFileSync(p, n.content);
        chmodSync(p, n.mode ?? 0o644);
        break;
      case 'dir':
        mkdirSync(p, { recursive: true });
        if (n.mode !== undefined) chmodSync(p, n.mode);
        break;
      case 'symlink':
        symlinkSync(n.target, p);
        break;
      case 'hardlink':
        linkSync(join(root, n.target), p);
        break;
      case 'fifo':
        execFileSync('mkfifo', [p]);
        break;
    }
  }
  const all = walk(root);
  if (opts.owner) for (const p of all) lchownSync(join(root, p), opts.owner[0], opts.owner[1]);
  if (opts.mtime) {
    // touch, not utimes: Node turns negative times into "now". One touch per distinct time.
    const byTime = new Map<number, string[]>();
    all.forEach((p, i) => {
      const t = opts.mtime!(i);
      byTime.set(t, [...(byTime.get(t) ?? []), join(root, p)]);
    });
    for (const [t, paths] of byTime) execFileSync('touch', ['-h', '-d', `@${t}`, ...paths]);
  }
}

/** Every path under root (relative, "." included). */
export function walk(root: string, rel = '.'): string[] {
  const out = [rel];
  const st = lstatSync(join(root, rel));
  if (st.isDirectory()) for (const e of readdirSync(join(root, rel)).sort()) out.push(...walk(root, rel === '.' ? e : `${rel}/${e}`));
  return out;
}

/**
 * A description of a tree that must survive normalization: type, content hash, link target,
 * executable bit, and which paths share an inode.
 */
export function describeTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const inodes = new Map<number, string[]>();
  for (const p of walk(root)) {
    if (p === '.') continue;
    const full = join(root, p);
    const st = lstatSync(full);
    if (st.isSymbolicLink()) out[p] = `symlink -> ${readlinkSync(full)}`;
    else if (st.isDirectory()) out[p] = 'dir';
    else if (st.isFIFO()) out[p] = 'fifo';
    else if (st.isFile()) {
      out[p] = `file ${st.mode & 0o111 ? 'x' : '-'} ${createHash('sha256').update(readFileSync(full)).digest('hex').slice(0, 16)}`;
      if (st.nlink > 1) inodes.set(st.ino, [...(inodes.get(st.ino) ?? []), p]);
    } else out[p] = 'other';
  }
  for (const group of inodes.values()) for (const p of group) out[p] += ` links:${group.sort().join(',')}`;
  return out;
}

export const REPRO = ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '--mode=a=rX,u+w'];
export const PAX_OPTS = '--pax-option=delete=atime,delete=ctime,exthdr.name=%d/PaxHeaders/%f';

/** GNU tar's reproducible archive of `dir` (as "."), the oracle. */
export function gnuCanonical(dir: string, format: 'gnu' | 'ustar' | 'posix', t: number | undefined, clamp = false): Buffer {
  const args = ['-C', dir, ...REPRO, `--mtime=@${t ?? 0}`, `--format=${format}`];
  if (clamp) args.push('--clamp-mtime');
  if (format === 'posix') args.push(PAX_OPTS);
  return execFileSync('tar', [...args, '-cf', '-', '.'], { maxBuffer: 1 << 30 });
}

/** GNU tar with whatever it finds (no sorting, real owners, times and modes). */
export function gnuPlain(dir: string, format: 'gnu' | 'ustar' | 'posix', extra: string[] = []): Buffer {
  return execFileSync('tar', ['-C', dir, `--format=${format}`, ...extra, '-cf', '-', '.'], { maxBuffer: 1 << 30 });
}

/** Python tarfile's archive of `dir` as ".", in format gnu/ustar/pax, optionally gzip. */
export function pythonTar(dir: string, format: 'gnu' | 'ustar' | 'posix', gz = false): Buffer {
  const fmt = format === 'gnu' ? 'GNU_FORMAT' : format === 'ustar' ? 'USTAR_FORMAT' : 'PAX_FORMAT';
  const code = `
import tarfile, sys, io
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode=${gz ? "'w:gz'" : "'w'"}, format=tarfile.${fmt}) as t:
    t.add(sys.argv[1], arcname='.')
sys.stdout.buffer.write(buf.getvalue())
`;
  return execFileSync('python3', ['-c', code, dir], { maxBuffer: 1 << 30 });
}

/** Extract with GNU tar (or Python tarfile) into a fresh directory. */
export function extractGnu(archive: Uint8Array, into: string): void {
  mkdirSync(into, { recursive: true });
  execFileSync('tar', ['-C', into, '-xf', '-'], { input: archive, maxBuffer: 1 << 30 });
}
export function extractPython(archive: Uint8Array, into: string): void {
  mkdirSync(into, { recursive: true });
  execFileSync('python3', ['-c', 'import tarfile,sys\nwith tarfile.open(fileobj=sys.stdin.buffer, mode="r|*") as t: t.extractall(sys.argv[1])', into], {
    input: archive,
    maxBuffer: 1 << 30,
  });
}

/** Member listing by `tar tvf` (throws when GNU tar rejects the archive). */
export function tarList(archive: Uint8Array): string {
  return execFileSync('tar', ['-tvf', '-'], { input: archive, maxBuffer: 1 << 30 }).toString();
}
export function pythonList(archive: Uint8Array): string[] {
  return execFileSync('python3', ['-c', 'import tarfile,sys\nwith tarfile.open(fileobj=sys.stdin.buffer, mode="r|*") as t:\n  for m in t: print(m.name)'], {
    input: archive,
  })
    .toString()
    .split('\n')
    .filter(Boolean);
}

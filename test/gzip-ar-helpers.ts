// Helpers shared by the gzip and ar tests: make artifacts with the real tools, and check
// outputs with them (gzip -t / -dc, ar t / p, nm -s).
import { chmodSync, chownSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './helpers.js';

/** `gzip -c -LEVEL` of `data` stored as file `name` with mtime `mtime` (FNAME and MTIME set). */
export function gzipFile(dir: string, data: Uint8Array, opts: { name?: string; mtime?: number; level?: number; noName?: boolean } = {}): Buffer {
  const sub = join(dir, `g${Math.random().toString(36).slice(2)}`);
  mkdirSync(sub);
  const name = opts.name ?? 'payload.txt';
  const p = join(sub, name);
  writeFileSync(p, data);
  const t = opts.mtime ?? 1500000000;
  utimesSync(p, t, t);
  return run('gzip', ['-c', `-${opts.level ?? 6}`, ...(opts.noName ? ['-n'] : []), name], { cwd: sub });
}

/** `gzip -n -LEVEL` of data read from stdin (what our canonical form must equal). */
export function gzipN(data: Uint8Array, level = 6): Buffer {
  return run('gzip', ['-n', `-${level}`, '-c'], { input: data });
}

/** gzip -t must accept it and gzip -dc must give back `payload` (when given). Returns -dc output. */
export function checkGzip(bytes: Uint8Array, payload?: Uint8Array): Buffer {
  run('gzip', ['-t'], { input: bytes });
  const out = run('gzip', ['-dc'], { input: bytes });
  if (payload && !out.equals(Buffer.from(payload))) throw new Error('gzip -dc gives different content');
  return out;
}

export interface ArMember {
  readonly name: string;
  readonly data: Uint8Array;
  readonly mtime?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly mode?: number;
}

/** Write members as files in dir/sub with their times, owners and modes. */
export function writeMembers(dir: string, members: readonly ArMember[]): string {
  const sub = join(dir, `m${Math.random().toString(36).slice(2)}`);
  mkdirSync(sub);
  for (const m of members) {
    const p = join(sub, m.name);
    writeFileSync(p, m.data);
    chmodSync(p, m.mode ?? 0o644);
    if (m.uid !== undefined || m.gid !== undefined) chownSync(p, m.uid ?? 0, m.gid ?? 0);
    const t = m.mtime ?? 1600000000;
    utimesSync(p, t, t);
  }
  return sub;
}

/** Run `ar <flags> out.a names...` in a directory holding the members; returns the archive. */
export function arTool(dir: string, members: readonly ArMember[], flags: string, opts: { tool?: string; args?: string[] } = {}): Buffer {
  const sub = writeMembers(dir, members);
  const out = join(sub, 'out.a');
  run(opts.tool ?? 'ar', [...(opts.args ?? []), flags, out, ...members.map((m) => m.name)], { cwd: sub });
  return readFileSync(out);
}

/** Write bytes to a temp file and return its path. */
export function tempFile(dir: string, name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

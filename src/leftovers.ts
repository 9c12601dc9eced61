// Temp files that earlier runs left in the tree (`.NAME.detnorm-PID-TAG[.inplace].tmp`). The walk
// only lists them; this decides. Nothing is removed by --check or diff, nor anything not provably
// a dead run's own (src/ownership.ts). An ordinary temp file of a dead run is removed (its target
// is intact: old or new). An `.inplace` one holds the complete new bytes of a hard-linked target
// whose in-place rewrite was interrupted: it is removed only when the target already equals it;
// otherwise it is the last good copy, kept and reported as an error.
import { closeSync, fstatSync, openSync, readSync, rmSync, constants } from 'node:fs';
import { ownership } from './ownership.js';
import type { Leftover, WalkProblem } from './walk.js';

/** Do two files hold the same bytes? (Neither is followed if it is a symlink.) */
function sameBytes(a: string, b: string): boolean {
  let fa: number | undefined;
  let fb: number | undefined;
  try {
    fa = openSync(a, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    fb = openSync(b, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const sa = fstatSync(fa);
    const sb = fstatSync(fb);
    if (!sa.isFile() || !sb.isFile() || sa.size !== sb.size) return false;
    const ba = Buffer.allocUnsafe(1 << 20);
    const bb = Buffer.allocUnsafe(1 << 20);
    for (let at = 0; at < sa.size; ) {
      const n = Math.min(ba.length, sa.size - at);
      if (readSync(fa, ba, 0, n, at) !== n || readSync(fb, bb, 0, n, at) !== n) return false;
      if (!ba.subarray(0, n).equals(bb.subarray(0, n))) return false;
      at += n;
    }
    return true;
  } catch {
    return false;
  } finally {
    if (fa !== undefined) closeSync(fa);
    if (fb !== undefined) closeSync(fb);
  }
}

/** Decide about each leftover; `write` is false for --check (and diff): then nothing is removed. */
export function handleLeftovers(leftovers: readonly Leftover[], write: boolean): WalkProblem[] {
  const out: WalkProblem[] = [];
  for (const l of leftovers) {
    const who = ownership(l.pid, l.tag);
    if (who === 'live' || who === 'self') continue; // a running detnorm's: not ours to touch
    if (who === 'unproven') {
      out.push({ path: l.path, reason: `temp file of another detnorm run (PID ${l.pid} on another machine, container or boot, or of an older version): left alone`, severity: 'notice' });
      continue;
    }
    if (l.inplace) {
      if (sameBytes(l.path, l.target)) {
        if (write) {
          rmSync(l.path, { force: true });
          out.push({ path: l.path, reason: `removed: an interrupted run (PID ${l.pid}) had finished rewriting ${l.target} in place`, severity: 'notice' });
        } else out.push({ path: l.path, reason: `left by an interrupted run (PID ${l.pid}); ${l.target} is complete; a writing run will remove it`, severity: 'notice' });
        continue;
      }
      out.push({
        path: l.path,
        reason: `an interrupted run (PID ${l.pid}) was rewriting the hard-linked ${l.target} in place: this file holds its complete new bytes, ${l.target} may be incomplete. Copy it over (cat ${l.path} > ${l.target}) or rebuild ${l.target}, then remove it; detnorm keeps it`,
        severity: 'error',
      });
      continue;
    }
    if (!write) {
      out.push({ path: l.path, reason: `temp file left by an interrupted run (PID ${l.pid}); not removed (nothing is, with --check)`, severity: 'notice' });
      continue;
    }
    try {
      rmSync(l.path, { force: true });
      out.push({ path: l.path, reason: `removed a temp file left by an interrupted run (PID ${l.pid}, this machine); ${l.target} is intact`, severity: 'notice' });
    } catch (e) {
      out.push({ path: l.path, reason: `temp file left by an interrupted run could not be removed: ${(e as Error).message}`, severity: 'notice' });
    }
  }
  return out;
}

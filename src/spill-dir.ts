// Spill directories: `$TMPDIR/detnorm-spill-PID-TAG-THREAD-XXXXXX`, one per artifact being
// worked on, made at its first spill and removed when the artifact is done. PID and TAG
// (src/ownership.ts) prove whose a directory is: a run removes its own on SIGINT/SIGTERM and a
// terminated worker's, and reaps those of dead runs on this machine (kill -9, power loss).
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { ownerTag, ownership } from './ownership.js';

export const SPILL_PREFIX = 'detnorm-spill-';
const SPILL_NAME = /^detnorm-spill-(\d+)-([0-9a-f]{8})-(\d+)-[A-Za-z0-9]{6}$/;

/** A lazily made private directory for one artifact's spill files. */
export class SpillDir {
  private path: string | undefined;
  private count = 0;
  /** A new file name inside the directory (made now if need be). */
  newFile(): string {
    this.path ??= mkdtempSync(join(tmpdir(), `${SPILL_PREFIX}${process.pid}-${ownerTag()}-${threadId}-`));
    return join(this.path, `s${++this.count}`);
  }
  remove(): void {
    if (this.path) rmSync(this.path, { recursive: true, force: true });
    this.path = undefined;
  }
}

export interface SpillDirInfo {
  readonly path: string;
  readonly pid: number;
  readonly tag: string;
  readonly thread: number;
}

/** The spill directories in `dir` (default $TMPDIR) whose names carry a PID and owner tag. */
export function listSpillDirs(dir = tmpdir()): SpillDirInfo[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: SpillDirInfo[] = [];
  for (const n of names) {
    const m = SPILL_NAME.exec(n);
    if (m) out.push({ path: join(dir, n), pid: Number(m[1]), tag: m[2]!, thread: Number(m[3]) });
  }
  return out;
}

/**
 * Remove this process's spill directories: all of them, or only those of one worker thread (a
 * worker that was terminated cannot clean up after itself).
 */
export function removeOwnSpillDirs(thread?: number, dir = tmpdir()): number {
  let n = 0;
  for (const d of listSpillDirs(dir)) {
    if (d.pid !== process.pid || d.tag !== ownerTag() || (thread !== undefined && d.thread !== thread)) continue;
    rmSync(d.path, { recursive: true, force: true });
    n++;
  }
  return n;
}

/** Remove spill directories left by dead detnorm runs on this machine (provably theirs); returns them. */
export function reapStaleSpillDirs(dir = tmpdir()): string[] {
  const removed: string[] = [];
  for (const d of listSpillDirs(dir)) {
    if (ownership(d.pid, d.tag) !== 'dead-ours') continue;
    try {
      rmSync(d.path, { recursive: true, force: true });
      removed.push(d.path);
    } catch {
      /* not removable: left for the administrator */
    }
  }
  return removed;
}

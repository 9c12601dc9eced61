// Safe writes: new bytes go to a temp file in the target's directory, which then replaces the
// target by rename (atomic: a crash leaves the old file or the new one, never a mix). The
// original mode is kept, and the owner when running as root. A file with several hard links is
// rewritten in place so that every link sees the new bytes (rename would split the links); see
// copyInPlace for how that copy is made safe against a full disk and a crash.
import {
  closeSync,
  fchmodSync,
  fchownSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  lstatSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
  constants,
  type BigIntStats,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { FileFailure, errnoWords } from './errors.js';
import { FileSink } from './file-io.js';
import { ownerTag } from './ownership.js';

/**
 * Temp files are named `.NAME.detnorm-PID-TAG.tmp` (TAG: src/ownership.ts), so that a later run
 * can prove a leftover is a dead run's own. `.NAME.detnorm-PID-TAG.inplace.tmp` holds the
 * complete new bytes of a hard-linked NAME while they are copied into it: it may be the last
 * good copy, and is never removed unless NAME already holds exactly its bytes.
 */
export const TEMP_PATTERN = /^\.(.+)\.detnorm-(\d+)-([0-9a-f]{8})(\.inplace)?\.tmp$/;

export function tempPathFor(target: string, inplace = false): string {
  return join(dirname(target), `.${basename(target)}.detnorm-${process.pid}-${ownerTag()}${inplace ? '.inplace' : ''}.tmp`);
}

/** What the target was when it was read: replaced only while it still is that. */
export interface TargetState {
  readonly st: BigIntStats;
}

/** Open a new temp file next to `target` (a same-named leftover of this very process is replaced). */
function createTemp(path: string): number {
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  try {
    return openSync(path, flags, 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // Same PID and tag: this process made it, for this target, in a worker that was stopped
    // (deadline) before it could remove it. The target is intact (old or new): not a last copy.
    unlinkSync(path);
    return openSync(path, flags, 0o600);
  }
}

/** An error writing `path`, in words: "cannot write dist/a.jar: no space left on the device (ENOSPC)". */
export function writeFailure(what: string, path: string, e: unknown): FileFailure {
  if (e instanceof FileFailure) return e;
  const words = errnoWords(e) ?? (e as Error).message;
  return new FileFailure('environment', `cannot ${what} ${path}: ${words}`, (e as NodeJS.ErrnoException).code);
}

/** An open temp file next to `target`; `commit` moves it over the target, `abort` removes it. */
export class AtomicFile {
  readonly path: string;
  readonly fd: number;
  readonly sink: FileSink;
  private done = false;
  constructor(
    readonly target: string,
    /** The target as it was read (its mode, owner and links); absent for a new file (-o). */
    private readonly like?: BigIntStats,
    /** Called just before the target is replaced: throws if it may no longer be. */
    private readonly beforeReplace?: () => void,
  ) {
    this.path = tempPathFor(target);
    try {
      this.fd = createTemp(this.path);
    } catch (e) {
      throw writeFailure('create a temp file for', target, e);
    }
    this.sink = new FileSink(this.fd);
  }

  /** Replace the target. With several hard links, copy the bytes into the target in place. */
  commit(): void {
    try {
      this.sink.flush();
      const st = this.like;
      if (st && st.nlink > 1n) {
        this.copyInPlace(st);
        return;
      }
      if (st) {
        fchmodSync(this.fd, Number(st.mode & 0o7777n));
        if (process.getuid?.() === 0) fchownSync(this.fd, Number(st.uid), Number(st.gid));
      } else {
        fchmodSync(this.fd, 0o666 & ~process.umask());
      }
      closeSync(this.fd);
      this.beforeReplace?.();
      renameSync(this.path, this.target);
      this.done = true;
    } catch (e) {
      throw writeFailure('replace', this.target, e);
    } finally {
      if (!this.done) this.abort();
    }
  }

  /**
   * Hard links: copy the new bytes into the target's own inode. The complete new bytes are
   * first synced and renamed to `.NAME...inplace.tmp`. When the file grows, the part beyond its
   * old end is written first (and synced), so a full disk is met before any old byte is
   * overwritten: the target is then cut back to its old size, intact. Only then is the rest
   * overwritten (blocks the file already has), and the .inplace.tmp removed once the target
   * holds every byte. A failure or a crash during that overwrite leaves the .inplace.tmp, the
   * last good copy, which no run removes unless the target already equals it.
   */
  private copyInPlace(st: BigIntStats): void {
    fdatasyncSync(this.fd);
    const size = fstatSync(this.fd).size;
    closeSync(this.fd);
    this.beforeReplace?.();
    const keep = tempPathFor(this.target, true);
    renameSync(this.path, keep);
    this.done = true; // the temp is now `keep`, handled below
    let src: number | undefined;
    let dst: number | undefined;
    let overwriting = false;
    try {
      src = openSync(keep, constants.O_RDONLY | constants.O_NOFOLLOW);
      dst = openSync(this.target, constants.O_WRONLY | constants.O_NOFOLLOW);
      const now = fstatSync(dst, { bigint: true });
      if (now.dev !== st.dev || now.ino !== st.ino) throw new FileFailure('environment', `${this.target} was replaced while it was being normalized; left as it is`);
      const oldSize = Number(now.size);
      const buf = Buffer.allocUnsafe(1 << 20);
      const copy = (from: number, to: number): void => {
        for (let at = from; at < to; ) {
          const n = readSync(src!, buf, 0, Math.min(buf.length, to - at), at);
          if (n === 0) throw new FileFailure('environment', `${keep} shrank while being copied`);
          for (let w = 0; w < n; ) w += writeSync(dst!, buf, w, n - w, at + w);
          at += n;
        }
      };
      if (size > oldSize) {
        try {
          copy(oldSize, size); // make room: the growth first
          fdatasyncSync(dst);
        } catch (e) {
          ftruncateSync(dst, oldSize); // the old bytes were not touched
          throw e;
        }
      }
      overwriting = true;
      copy(0, Math.min(oldSize, size));
      if (size < oldSize) ftruncateSync(dst, size);
      fdatasyncSync(dst);
      overwriting = false;
    } catch (e) {
      if (overwriting) {
        throw new FileFailure(
          'environment',
          `${this.target} (hard-linked) is only partly rewritten: ${errnoWords(e) ?? (e as Error).message}. Its complete new bytes are in ${keep}: copy them over it (cat ${keep} > ${this.target}), then remove ${keep}`,
          (e as NodeJS.ErrnoException).code,
        );
      }
      try {
        unlinkSync(keep); // the target is intact: this is no last copy
      } catch {
        /* gone already */
      }
      throw e;
    } finally {
      if (src !== undefined) closeSync(src);
      if (dst !== undefined) closeSync(dst);
    }
    unlinkSync(keep);
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Where `-o OUT` writes for the input `inputName`: OUT itself, or OUT/NAME when OUT is an
 * existing directory (as cp does). Throws an Error in words when OUT cannot be written at all
 * (its directory is missing or not a directory), before anything is written.
 */
export function resolveOutputPath(out: string, inputName: string | undefined): string {
  let st;
  try {
    st = statSync(out);
  } catch {
    st = undefined;
  }
  if (st?.isDirectory()) {
    if (!inputName) throw new Error(`${out} is a directory: give a file name (with "-", --stdin-name NAME names the file written into it)`);
    return join(out, basename(inputName));
  }
  const parent = dirname(out);
  let pst;
  try {
    pst = statSync(parent);
  } catch (e) {
    throw new Error(`cannot write ${out}: directory ${parent} ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be reached: ${errnoWords(e) ?? (e as Error).message}`}`);
  }
  if (!pst.isDirectory()) throw new Error(`cannot write ${out}: ${parent} is not a directory`);
  try {
    if (lstatSync(out).isDirectory()) throw new Error(`cannot write ${out}: it is a directory`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return out;
}

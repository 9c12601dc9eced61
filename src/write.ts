// Safe writes: new bytes go to a temp file in the target's directory, which then replaces the
// target by rename (atomic: a crash leaves the old file or the new one, never a mix). The
// original mode is kept, and the owner when running as root. A file with several hard links is
// rewritten in place so that every link sees the new bytes (rename would split the links).
import {
  closeSync,
  copyFileSync,
  fchmodSync,
  fchownSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
  constants,
  type Stats,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { FileSink } from './file-io.js';

/** Temp files are named `.NAME.detnorm-PID-RANDOM.tmp` so a later run can recognize leftovers. */
export const TEMP_PATTERN = /^\..*\.detnorm-(\d+)-[0-9a-f]{8}\.tmp$/;

export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.detnorm-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/** An open temp file next to `target`; `commit` moves it over the target, `abort` removes it. */
export class AtomicFile {
  readonly path: string;
  readonly fd: number;
  readonly sink: FileSink;
  private done = false;
  constructor(
    readonly target: string,
    private readonly like?: Stats,
  ) {
    this.path = tempPathFor(target);
    this.fd = openSync(this.path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    this.sink = new FileSink(this.fd);
  }

  /** Replace the target. With several hard links, copy the bytes into the target in place. */
  commit(): void {
    this.sink.flush();
    try {
      const st = this.like;
      if (st && st.nlink > 1) {
        this.copyInPlace();
        return;
      }
      if (st) {
        fchmodSync(this.fd, st.mode & 0o7777);
        if (process.getuid?.() === 0) fchownSync(this.fd, st.uid, st.gid);
      } else {
        fchmodSync(this.fd, 0o666 & ~process.umask());
      }
      closeSync(this.fd);
      renameSync(this.path, this.target);
    } finally {
      this.done = true;
    }
  }

  private copyInPlace(): void {
    // The complete new bytes stay in the temp file until the in-place copy has finished, so an
    // interrupted copy can be redone from it (see README: hard links cannot be replaced atomically).
    const size = fstatSync(this.fd).size;
    closeSync(this.fd);
    const src = openSync(this.path, 'r');
    const dst = openSync(this.target, 'r+');
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      let at = 0;
      while (at < size) {
        const n = readSync(src, buf, 0, Math.min(buf.length, size - at), at);
        let w = 0;
        while (w < n) w += writeSync(dst, buf, w, n - w, at + w);
        at += n;
      }
      ftruncateSync(dst, size);
    } finally {
      closeSync(src);
      closeSync(dst);
    }
    unlinkSync(this.path);
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

/** Write `bytes` to `target` atomically (used for -o and for copies of unchanged inputs). */
export function copyAtomically(from: string, target: string): void {
  const tmp = tempPathFor(target);
  try {
    copyFileSync(from, tmp);
    renameSync(tmp, target);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* nothing to remove */
    }
    throw e;
  }
}

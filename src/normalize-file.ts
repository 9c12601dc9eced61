// Normalize one file on disk: open, run the engine over a FileSource, and replace the file
// atomically only when its bytes change, and only while it is still the file the walk saw and
// nobody else has written it since it was read. This is what each worker runs.
import { close, closeSync, fstatSync, lstatSync, lutimesSync, openSync, readSync, statSync, constants, type BigIntStats } from 'node:fs';
import { basename, dirname, relative, resolve, sep } from 'node:path';
import { Engine, describeError, guardFor } from './engine.js';
import { FileFailure, errnoWords } from './errors.js';
import { FileSource, SpillPool } from './file-io.js';
import { copyRange } from './io.js';
import type { FileReport } from './report.js';
import type { Change, Handler, Sink, TouchRequest } from './types.js';
import type { Options } from './types.js';
import { AtomicFile } from './write.js';
import { normalizeDirectoryJob } from './directory.js';

/**
 * Device and inode numbers, as decimal strings (they pass to workers and exceed 2^53), and the
 * birth time where the file system keeps one: a file deleted and replaced may get the same
 * inode number back, never the same birth time.
 */
export interface FileIdentity {
  readonly dev: string;
  readonly ino: string;
  readonly btime?: string;
}

export interface FileJob {
  readonly path: string;
  readonly options: Options;
  /** Compute what would change, write nothing. */
  readonly check?: boolean;
  /** Write the result here instead of replacing the input (the input stays as it is). */
  readonly output?: string;
  readonly links?: readonly string[];
  /**
   * The roots of the tree being normalized: other files (a pyc's source) are read or touched
   * only when they lie under one of these. Absent: only the artifact itself is touched.
   */
  readonly roots?: readonly string[];
  /** `path` is a directory artifact (an OCI image layout) of the handler so named (src/directory.ts). */
  readonly directory?: string;
  /** What the walk saw at `path`, and at its directory: only that file is ever replaced. */
  readonly ident?: FileIdentity;
  readonly parentIdent?: FileIdentity;
  /** The name used for detection (default: the base name of `path`; stdin: --stdin-name). */
  readonly name?: string;
  /** The path reports give (default `path`; stdin: "-"). */
  readonly reportPath?: string;
}

export function identityOf(st: { dev: bigint | number; ino: bigint | number; birthtimeNs?: bigint }): FileIdentity {
  return { dev: String(st.dev), ino: String(st.ino), ...(st.birthtimeNs ? { btime: String(st.birthtimeNs) } : {}) };
}

function sameIdentity(a: FileIdentity, st: BigIntStats): boolean {
  return a.dev === String(st.dev) && a.ino === String(st.ino) && (!a.btime || !st.birthtimeNs || a.btime === String(st.birthtimeNs));
}

/** Open a regular file without following a symlink at it and without blocking on a FIFO. */
function openRegular(path: string): { fd: number; st: BigIntStats } {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd, { bigint: true });
    if (!st.isFile()) throw new FileFailure('environment', 'not a regular file');
    return { fd, st };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** A regular file of the tree, read whole (never through a symlink, never blocking on a FIFO). */
function readRegularFile(path: string): Uint8Array | undefined {
  let f;
  try {
    f = openRegular(path);
  } catch {
    return undefined;
  }
  try {
    const size = Number(f.st.size);
    const buf = Buffer.allocUnsafe(size);
    for (let done = 0; done < size; ) {
      const n = readSync(f.fd, buf, done, size - done, done);
      if (n === 0) return buf.subarray(0, done);
      done += n;
    }
    return buf;
  } finally {
    closeSync(f.fd);
  }
}

/** The regular file `rel` names next to `artifact`, if it lies inside one of `roots`. */
function treeFile(artifact: string, rel: string, roots: readonly string[] | undefined): { path: string; size: number; mtimeMs: number; atimeMs: number } | undefined {
  if (!roots || rel.startsWith('/')) return undefined;
  const p = resolve(dirname(artifact), rel);
  const inside = roots.some((r) => {
    const rr = relative(resolve(r), p);
    return rr === '' || (!rr.startsWith('..' + sep) && rr !== '..' && !rr.startsWith('/'));
  });
  if (!inside) return undefined;
  try {
    const st = lstatSync(p);
    return st.isFile() ? { path: p, size: st.size, mtimeMs: st.mtimeMs, atimeMs: st.atimeMs } : undefined;
  } catch {
    return undefined;
  }
}

/** Apply the handler's mtime requests; returns the changes made (or, with check, that would be). */
function applyTouches(artifact: string, reqs: readonly TouchRequest[], roots: readonly string[] | undefined, check: boolean): Change[] {
  const out: Change[] = [];
  for (const t of reqs) {
    const f = treeFile(artifact, t.relativePath, roots);
    if (!f) continue;
    if (t.size !== undefined && f.size % 2 ** 32 !== t.size % 2 ** 32) continue;
    if (Math.floor(f.mtimeMs / 1000) === t.mtime && f.mtimeMs % 1000 === 0) continue;
    if (!check) lutimesSync(f.path, f.atimeMs / 1000, t.mtime);
    out.push({ kind: 'timestamp', what: `mtime of ${t.relativePath} -> ${new Date(t.mtime * 1000).toISOString()}` });
  }
  return out;
}

/** Inputs at least this large are closed in the background (see normalizeFileJob). */
const ASYNC_CLOSE_BYTES = 16 * 1024 * 1024;

/** Why the file at `path` may not be replaced now, or undefined when it may. */
function replaceCheck(path: string, fd: number, read: BigIntStats, parent: FileIdentity | undefined): string | undefined {
  const now = fstatSync(fd, { bigint: true });
  if (now.size !== read.size || now.mtimeNs !== read.mtimeNs) {
    return 'changed by another process while it was being normalized (size or modification time differ); left as the other writer made it';
  }
  let at: BigIntStats;
  try {
    at = lstatSync(path, { bigint: true });
  } catch (e) {
    return `gone while it was being normalized (${errnoWords(e) ?? (e as Error).message})`;
  }
  if (at.dev !== read.dev || at.ino !== read.ino) return 'replaced by another file while it was being normalized; left as it is';
  if (parent) {
    let dir: BigIntStats;
    try {
      dir = statSync(dirname(path), { bigint: true });
    } catch (e) {
      return `its directory is gone (${errnoWords(e) ?? (e as Error).message})`;
    }
    if (!sameIdentity(parent, dir)) return 'its directory was replaced (by a symbolic link?) since the walk; nothing written';
  }
  return undefined;
}

/** What a worker wants to know while a job runs. */
export interface JobHooks {
  /** True while the file is being replaced (rename or in-place copy): the pool never stops that. */
  replacing?(on: boolean): void;
}

export async function normalizeFileJob(job: FileJob, handlers: readonly Handler[], hooks: JobHooks = {}): Promise<FileReport> {
  if (job.directory) return normalizeDirectoryJob(job, handlers);
  const { path, options } = job;
  const shown = job.reportPath ?? path;
  const links = job.links && job.links.length ? { links: job.links } : {};
  const fail = (reason: string, format?: string): FileReport => ({ path: shown, ...(format ? { format } : {}), status: 'error', changes: [], notices: [], reason, ...links });
  let fd: number;
  let st: BigIntStats;
  try {
    // In place, a symlink is never followed (we would write through it), nor is a FIFO or a
    // device opened so that it blocks. With -o nothing is written through the input, so a
    // symlinked input (Bazel's sandbox inputs) is read.
    if (job.output) {
      fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      st = fstatSync(fd, { bigint: true });
      if (!st.isFile()) {
        closeSync(fd);
        return fail('not a regular file');
      }
    } else {
      ({ fd, st } = openRegular(path));
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return fail('is now a symbolic link (it was a regular file when the tree was walked); not followed');
    if (e instanceof FileFailure) return fail(`${e.message} (a FIFO, device or socket stands at this path now)`);
    return fail(`cannot open: ${errnoWords(e) ?? (e as Error).message}`);
  }
  if (job.ident && !sameIdentity(job.ident, st)) {
    closeSync(fd);
    return fail('not the file the walk saw (a directory on its path was replaced by a symbolic link, or the file by another); left alone');
  }
  const guard = guardFor(options);
  const spills = new SpillPool(options.limits.spillBytes, guard);
  let atomic: AtomicFile | undefined;
  const size = Number(st.size);
  try {
    const sibling = async (rel: string): Promise<Uint8Array | undefined> => {
      const f = treeFile(path, rel, job.roots);
      return f ? readRegularFile(f.path) : undefined;
    };
    const engine = new Engine({ options, handlers, spill: spills.make, sibling, guard });
    const target = job.output ?? path;
    const beforeReplace = job.output
      ? undefined
      : () => {
          const why = replaceCheck(path, fd, st, job.parentIdent);
          if (why) throw new FileFailure('environment', why);
        };
    const open = async (): Promise<Sink | undefined> => {
      if (job.check) return undefined;
      atomic = new AtomicFile(target, job.output ? undefined : st, beforeReplace);
      return atomic.sink;
    };
    const source = new FileSource(fd, size, guard);
    const outcome = await engine.normalize(source, job.name ?? basename(path), shown, 0, open);
    const commit = (f: AtomicFile) => {
      hooks.replacing?.(true);
      try {
        f.commit();
      } finally {
        hooks.replacing?.(false);
      }
    };
    if (outcome.status === 'changed') {
      if (atomic) commit(atomic);
    } else {
      atomic?.abort();
      atomic = undefined;
      // -o: the output file gets the input's bytes when nothing changed (or it could not be parsed).
      if (job.output && !job.check) {
        atomic = new AtomicFile(target);
        await copyRange(source, 0, size, atomic.sink);
        commit(atomic);
      }
    }
    const touched = outcome.touch && !job.output ? applyTouches(path, outcome.touch, job.roots, Boolean(job.check)) : [];
    const status = touched.length && outcome.status === 'unchanged' ? 'changed' : outcome.status;
    return {
      path: shown,
      format: outcome.format,
      status,
      changes: [...outcome.changes, ...touched],
      notices: outcome.notices,
      ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
      ...(job.check && status === 'changed' ? { checked: true } : {}),
      ...(touched.length ? { touched: touched.length } : {}),
      ...links,
    };
  } catch (e) {
    atomic?.abort();
    return fail(describeError(guard.record(e)));
  } finally {
    spills.dispose();
    // A large replaced file is closed on libuv's thread pool: that last close frees the old
    // inode's blocks, tens of ms for 200 MB, and the next file need not wait for it. Small
    // files close here: on the pool, 3,500 of them cost 20k thread wake-ups (sys 1.4 s, not 0.5 s).
    if (size >= ASYNC_CLOSE_BYTES) close(fd, () => {});
    else closeSync(fd);
  }
}

// A directory-shaped artifact (an OCI image layout: oci-layout + index.json + blobs/) as one
// artifact. The tree walk hands such a directory over whole when an enabled handler's
// detectDirectory() claims its entry names (walk.ts, option directoryFormat); this module reads
// its files, runs that handler's pure normalizeDirectory() over them, and applies the result so
// that a crash leaves either the old artifact or the new one:
//   1. the handler's writes, in the order it gives (for a layout: every new blob, under a new
//      name so nothing old is touched, then index.json, the switch from the old graph to the
//      new one), each through a temp file + rename,
//   2. then the files the handler says nothing refers to any more are removed.
// An interruption before 2 leaves unreferenced files, which the next run reports and keeps.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Engine, describeError } from './engine.js';
import { copyRange } from './io.js';
import { FileSource, SpillPool } from './file-io.js';
import type { FileJob } from './normalize-file.js';
import type { FileReport } from './report.js';
import type { Change, Context, DirectoryFiles, Handler, MemberResult, Source, SpillSink } from './types.js';
import { FormatError } from './types.js';
import { AtomicFile, TEMP_PATTERN } from './write.js';

/** Most files a directory artifact may hold (each is opened while it is normalized). */
const MAX_FILES = 200_000;

/** A file opened on first read and closed by `close()`. */
class LazyFileSource implements Source {
  private fd: number | undefined;
  private inner: FileSource | undefined;
  constructor(
    readonly path: string,
    readonly size: number,
  ) {}
  read(offset: number, length: number): Promise<Uint8Array> {
    if (!this.inner) {
      this.fd = openSync(this.path, constants.O_RDONLY | constants.O_NOFOLLOW);
      const st = fstatSync(this.fd);
      if (!st.isFile() || st.size !== this.size) throw new FormatError(`${this.path} changed while it was being read`);
      this.inner = new FileSource(this.fd, this.size);
    }
    return this.inner.read(offset, length);
  }
  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.inner = undefined;
  }
}

/** The directory's regular files by '/'-separated relative path; symlinks and specials refused. */
export function listFiles(root: string): Map<string, LazyFileSource> {
  const out = new Map<string, LazyFileSource>();
  const visit = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(p);
      if (st.isDirectory()) visit(p, r);
      else if (st.isFile()) {
        if (TEMP_PATTERN.test(name)) continue; // an interrupted run's temp file: not part of the layout
        if (out.size >= MAX_FILES) throw new FormatError(`more than ${MAX_FILES} files in the directory`);
        out.set(r, new LazyFileSource(p, st.size));
      } else if (st.isSymbolicLink()) throw new FormatError(`${r} is a symbolic link: not supported in a directory artifact`);
      else throw new FormatError(`${r} is not a regular file`);
    }
  };
  visit(root, '');
  return out;
}

/** A Context for a top-level artifact that is a directory (nesting goes through the engine). */
export function makeContext(engine: Engine, job: FileJob, spill: () => SpillSink, notices: string[]): Context {
  return {
    options: job.options,
    path: job.path,
    depth: 0,
    spill,
    notice: (m) => notices.push(m),
    // Through the engine, so a failure that is not in the bytes (ENOSPC, the deadline) fails the layout.
    normalizeMember: (name, member): Promise<MemberResult> => engine.member(name, member, job.path, 1, notices),
  };
}

async function writeFile(target: string, src: Source): Promise<void> {
  let like;
  try {
    const st = lstatSync(target, { bigint: true });
    if (st.isFile() && st.nlink === 1n) like = st;
  } catch {
    like = undefined;
  }
  const f = new AtomicFile(target, like);
  try {
    await copyRange(src, 0, src.size, f.sink);
    f.commit();
  } catch (e) {
    f.abort();
    throw e;
  }
}

/** The enabled handler that claims a directory with these entry names, if any. */
export function directoryHandler(names: readonly string[], handlers: readonly Handler[], enabled: readonly string[]): Handler | undefined {
  return handlers.find((h) => enabled.includes(h.name) && h.detectDirectory?.(names) && h.normalizeDirectory);
}

/** A directory artifact normalized in memory: its files after normalization (for `detnorm diff`). */
export async function normalizedDirectory(h: Handler, files: DirectoryFiles, ctx: Context): Promise<{ files: Map<string, Source>; changes: readonly Change[] }> {
  const r = await h.normalizeDirectory!(files, ctx);
  const out = new Map<string, Source>(files);
  for (const d of r.deletes) out.delete(d);
  for (const [k, v] of r.writes) out.set(k, v);
  return { files: out, changes: r.changes };
}

/** Normalize the directory artifact `job.path` with the handler `job.directory` names (check: compute only). */
export async function normalizeDirectoryJob(job: FileJob, handlers: readonly Handler[]): Promise<FileReport> {
  const { path, options } = job;
  const h = handlers.find((x) => x.name === job.directory && x.normalizeDirectory);
  const base = { path, format: job.directory ?? 'directory' } as const;
  if (!h) return { ...base, status: 'error', changes: [], notices: [], reason: `no handler ${job.directory} for a directory artifact` };
  if (job.output) return { ...base, status: 'error', changes: [], notices: [], reason: `a ${h.name} directory cannot be written to another output` };
  const spills = new SpillPool(options.limits.spillBytes);
  const notices: string[] = [];
  let files: Map<string, LazyFileSource> | undefined;
  try {
    files = listFiles(path);
    const engine = new Engine({ options, handlers, spill: spills.make });
    const r = await h.normalizeDirectory!(files, makeContext(engine, job, spills.make, notices));
    if (r.writes.size === 0 && r.deletes.length === 0) return { ...base, status: 'unchanged', changes: [], notices };
    if (!job.check) {
      for (const [rel, src] of r.writes) await writeFile(join(path, ...rel.split('/')), src);
      for (const f of files.values()) f.close();
      for (const rel of r.deletes) {
        try {
          unlinkSync(join(path, ...rel.split('/')));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
    }
    return { ...base, status: 'changed', changes: [...r.changes], notices, ...(job.check ? { checked: true } : {}) };
  } catch (e) {
    return { ...base, status: 'error', changes: [], notices, reason: describeError(e) };
  } finally {
    if (files) for (const f of files.values()) f.close();
    spills.dispose();
  }
}

// The library API: normalizeBuffer, normalizeFile, normalizeTree. The CLI is built on it.
import { lstatSync } from 'node:fs';
import { HANDLERS } from '../formats/index.js';
import { directoryHandler } from './directory.js';
import { normalizeBytes } from './engine.js';
import { SpillPool } from './file-io.js';
import { handleLeftovers } from './leftovers.js';
import { identityOf, normalizeFileJob, type FileJob } from './normalize-file.js';
import { resolveOptions, type NormalizeOptions } from './resolve-options.js';
import { WorkerPool, defaultJobs, effectiveJobs } from './pool.js';
import { count, summarize, type FileReport, type FileStatus, type Summary } from './report.js';
import { reapStaleSpillDirs } from './spill-dir.js';
import type { Change, Options } from './types.js';
import { TreeWalk, byteCompare, walk, type WalkEntry, type WalkProblem } from './walk.js';
import { resolveOutputPath } from './write.js';

export type { Change, ChangeKind, PathMap, Limits } from './types.js';
export type { FileReport, FileStatus, Summary } from './report.js';
export type { WalkProblem } from './walk.js';

export type { NormalizeOptions } from './resolve-options.js';
export { resolveOptions } from './resolve-options.js';

export interface BufferResult {
  /** The normalized bytes (the input itself when nothing changed). */
  output: Uint8Array;
  format?: string;
  status: FileStatus;
  changed: boolean;
  changes: readonly Change[];
  notices: readonly string[];
  reason?: string;
}

export interface FileOptions extends NormalizeOptions {
  /** Write the result here and leave the input alone. */
  output?: string;
  /** Only compute what would change. */
  check?: boolean;
}

export interface TreeOptions extends NormalizeOptions {
  /** Files worked on at once, each in a worker thread; default: available parallelism, capped by cores and memory. */
  jobs?: number;
  /**
   * Modules (paths or file: URLs) whose default export is an array of extra handlers, loaded by
   * every worker and tried before the built-in ones. For tests and experiments.
   */
  handlerModules?: readonly string[];
  check?: boolean;
  /** Called for each file in sorted path order as soon as it and all before it are done. */
  onReport?: (report: FileReport) => void;
  /** Called when the walk is done with the number of files to process. */
  onStart?: (files: number, bytes: number) => void;
  /**
   * Keep every report for TreeResult.reports (default true). false: reports go only to
   * onReport and reports is empty (the summary still counts them all), so a tree of a million
   * files does not hold a million reports.
   */
  keepReports?: boolean;
  /** Jobs walked ahead of the pool for one root (default WALK_SLICE); smaller in tests. */
  walkSlice?: number;
}

export interface TreeResult {
  reports: FileReport[];
  problems: WalkProblem[];
  summary: Summary;
  /** Worker threads used (jobs, capped by cores and memory). */
  threads: number;
}

/** Names and descriptions of every format handler, in detection order. */
export function listFormats(): Array<{ name: string; description: string; extensions: readonly string[] }> {
  return HANDLERS.map((h) => ({ name: h.name, description: h.description, extensions: h.extensions }));
}


/** Normalize bytes in memory. `name` (a file name) serves as the extension tie-break. */
export async function normalizeBuffer(input: Uint8Array, options: NormalizeOptions & { name?: string } = {}): Promise<BufferResult> {
  const opts = resolveOptions(options);
  const spills = new SpillPool(opts.limits.spillBytes);
  try {
    const r = await normalizeBytes(input, options.name ?? 'input', opts, HANDLERS, spills.make);
    return {
      output: r.output,
      ...(r.format ? { format: r.format } : {}),
      status: r.status,
      changed: r.status === 'changed',
      changes: r.changes,
      notices: r.notices,
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
    };
  } finally {
    spills.dispose();
  }
}

/**
 * Normalize one file in place (atomically), or into `output` (an existing directory: a file of
 * the same name in it, as cp does). Runs on the calling thread: the deadline is checked at every
 * read, write and nested member, but a handler's loop that does neither cannot be stopped here
 * (normalizeTree runs each file in a worker thread, which can be).
 */
export async function normalizeFile(path: string, options: FileOptions = {}): Promise<FileReport> {
  const opts = resolveOptions(options);
  const output = options.output !== undefined ? resolveOutputPath(options.output, path) : undefined;
  let ident;
  try {
    ident = identityOf(lstatSync(path, { bigint: true }));
  } catch {
    ident = undefined; // reported when it is opened
  }
  return normalizeFileJob(
    { path, options: opts, ...(options.check ? { check: true } : {}), ...(output ? { output } : {}), ...(ident && !output ? { ident } : {}) },
    HANDLERS,
  );
}

/**
 * Walk files and directories, normalize every regular file, report in sorted path order. Each
 * file is worked on in a worker thread (jobs of them at once), so the per-file deadline holds
 * whatever a handler does. A writing run (not check) also removes temp files and spill
 * directories that dead runs on this machine provably left (src/leftovers.ts).
 */
export async function normalizeTree(paths: string | readonly string[], options: TreeOptions = {}): Promise<TreeResult> {
  const opts = resolveOptions(options);
  const roots = typeof paths === 'string' ? [paths] : paths;
  const threads = effectiveJobs(options.jobs ?? defaultJobs());
  // Started before the walk, so the workers load while it runs.
  const pool = new WorkerPool({ threads, deadlineMs: opts.limits.deadlineMs ?? 0, ...(options.handlerModules ? { handlerModules: options.handlerModules } : {}) });
  try {
    const directoryFormat = (names: readonly string[]) => directoryHandler(names, HANDLERS, opts.formats)?.name;
    if (roots.length === 1) return await streamTree(roots[0]!, opts, options, pool, threads, directoryFormat);
    const walked = walk(roots, { directoryFormat });
    const { files } = walked;
    // A file reached through a symlink named on the command line is worked on at its real path
    // and reported under the name given.
    const shown = (r: FileReport): FileReport => {
      const path = walked.names.get(r.path);
      const links = r.links?.map((l) => walked.names.get(l) ?? l);
      return path || links?.some((l, i) => l !== r.links![i]) ? { ...r, ...(path ? { path } : {}), ...(links ? { links } : {}) } : r;
    };
    const problems = [...walked.problems, ...handleLeftovers(walked.leftovers, !options.check)];
    if (!options.check) reapStaleSpillDirs();
    options.onStart?.(files.length, files.reduce((a, f) => a + f.size, 0));
    const keep = options.keepReports ?? true;
    const summary = summarize([]);
    const reports = await pool.runAll(
      files.map((f) => jobOf(f, opts, walked.roots, Boolean(options.check))),
      (r) => {
        count(summary, r);
        options.onReport?.(shown(r));
      },
      files.map((f) => f.size),
      { keep },
    );
    problems.sort((a, b) => byteCompare(a.path, b.path));
    const named = keep ? reports.map(shown) : [];
    return { reports: named, problems, summary, threads };
  } finally {
    await pool.close();
  }
}

/**
 * The job of a walked file. Fields are set one by one, not spread from `cond ? {x} : {}`: that
 * costs a few microseconds a file on the main thread, which a tree of a million files feels.
 */
function jobOf(f: WalkEntry, options: Options, roots: readonly string[], check: boolean): FileJob {
  const job: { -readonly [K in keyof FileJob]: FileJob[K] } = { path: f.path, options, roots };
  if (check) job.check = true;
  if (f.links.length) job.links = f.links;
  if (f.directory) job.directory = f.directory;
  if (f.ident) job.ident = f.ident;
  if (f.parentIdent) job.parentIdent = f.parentIdent;
  return job;
}

/**
 * Jobs walked ahead of the pool: a tree of up to this many files is walked whole, then run (as
 * walk() + runAll); a larger one is run in slices of this many jobs while the next is walked, so
 * memory holds two slices, whatever the tree's size.
 */
export const WALK_SLICE = 8192;

/** normalizeTree of one root: the walk streamed into the pool (TreeWalk), reports in path order. */
async function streamTree(
  root: string,
  opts: Options,
  options: TreeOptions,
  pool: WorkerPool,
  threads: number,
  directoryFormat: (names: readonly string[]) => string | undefined,
): Promise<TreeResult> {
  const write = !options.check;
  const leftoverProblems: WalkProblem[] = [];
  const tree = new TreeWalk(root, { directoryFormat, onLeftovers: (l) => leftoverProblems.push(...handleLeftovers(l, write)) });
  const entries = tree.entries();
  let walked = false;
  /** Up to `n` more entries; in steps that let the pool's messages through when `yieldEvery`. */
  const take = async (n: number, yieldEvery: boolean): Promise<WalkEntry[]> => {
    const out: WalkEntry[] = [];
    while (!walked && out.length < n) {
      for (let i = 0; i < 256 && out.length < n; i++) {
        const r = entries.next();
        if (r.done) {
          walked = true;
          break;
        }
        out.push(r.value);
      }
      if (yieldEvery && !walked) await new Promise((r) => setImmediate(r));
    }
    return out;
  };
  const shown = (r: FileReport): FileReport => {
    const path = tree.shown(r.path);
    const links = r.links?.map((l) => tree.shown(l));
    return path !== r.path || links?.some((l, i) => l !== r.links![i]) ? { ...r, path, ...(links ? { links } : {}) } : r;
  };
  const toJob = (f: WalkEntry) => jobOf(f, opts, tree.roots, Boolean(options.check));
  const keep = options.keepReports ?? true;
  const summary = summarize([]);
  const onReport = (r: FileReport) => {
    count(summary, r);
    options.onReport?.(shown(r));
  };
  const sliceFiles = Math.max(1, options.walkSlice ?? WALK_SLICE);
  let slice = await take(sliceFiles, false);
  if (write) reapStaleSpillDirs();
  let files = 0;
  let bytes = 0;
  const all: FileReport[] = [];
  let started = false;
  for (;;) {
    files += slice.length;
    for (const f of slice) bytes += f.size;
    if (walked && !started) {
      started = true;
      options.onStart?.(files, bytes);
    }
    if (!slice.length) break;
    const running = pool.runAll(slice.map(toJob), onReport, slice.map((f) => f.size), { keep });
    running.catch(() => {}); // awaited below, after the next slice is walked
    const next = walked ? [] : await take(sliceFiles, true);
    const reports = await running;
    if (keep) for (const r of reports) all.push(shown(r));
    slice = next;
  }
  const problems = [...tree.problems, ...leftoverProblems];
  problems.sort((a, b) => byteCompare(a.path, b.path));
  return { reports: all, problems, summary, threads };
}

/** The exit code DESIGN.md section 5 gives for a finished run. */
export function exitCodeFor(result: TreeResult, check: boolean): 0 | 1 | 3 {
  if (result.summary.errors > 0 || result.problems.some((p) => p.severity === 'error')) return 3;
  if (check && result.summary.changed > 0) return 1;
  return 0;
}

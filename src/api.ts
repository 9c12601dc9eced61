// The library API: normalizeBuffer, normalizeFile, normalizeTree. The CLI is built on it.
import { lstatSync } from 'node:fs';
import { HANDLERS } from '../formats/index.js';
import { directoryHandler } from './directory.js';
import { normalizeBytes } from './engine.js';
import { SpillPool } from './file-io.js';
import { handleLeftovers } from './leftovers.js';
import { identityOf, normalizeFileJob, type FileJob } from './normalize-file.js';
import { MAX_TIMESTAMP, applyFormatsSpec, defaultOptions, parseMapPath } from './options.js';
import { WorkerPool, defaultJobs, effectiveJobs } from './pool.js';
import { count, summarize, type FileReport, type FileStatus, type Summary } from './report.js';
import { reapStaleSpillDirs } from './spill-dir.js';
import { DEFAULT_LIMITS, type Change, type Limits, type Options, type PathMap } from './types.js';
import { TreeWalk, byteCompare, walk, type WalkEntry, type WalkProblem } from './walk.js';
import { resolveOutputPath } from './write.js';

export type { Change, ChangeKind, PathMap, Limits } from './types.js';
export type { FileReport, FileStatus, Summary } from './report.js';
export type { WalkProblem } from './walk.js';

/** Options of the library API. Everything is explicit: the library reads no environment variable. */
export interface NormalizeOptions {
  /** T in seconds since the epoch (the CLI takes it from -T or SOURCE_DATE_EPOCH). */
  timestamp?: number;
  /** Only times later than T become T. */
  clamp?: boolean;
  /** Build-path maps: ["OLD=NEW", ...], [{from, to}, ...] or {OLD: NEW}. */
  mapPaths?: readonly string[] | readonly PathMap[] | Readonly<Record<string, string>>;
  /** ar: sort members by name. */
  sortArMembers?: boolean;
  /** pyc: convert timestamp pycs whose source is present into hash-based ones. */
  pycInvalidation?: 'checked-hash' | 'unchecked-hash';
  /** pyc: also sort set/frozenset items of Python < 3.11 pycs (their order follows PYTHONHASHSEED). */
  pycSortSets?: boolean;
  /** PE images: stamps derived from the content ('content', default, as lld-link /Brepro) or T ('T') (CLI --pe-timestamp). */
  peTimestamp?: 'content' | 'T';
  /** RPM packages: the BUILDHOST to write (default "reproducible"; CLI --rpm-buildhost). */
  rpmBuildHost?: string;
  /** Container image layers: keep numeric owners ('keep', default) or set them to 0 (CLI --oci-owners). */
  ociOwners?: 'keep' | 'zero';
  /** Container images: leave the first N layers of each image byte-identical (CLI --keep-layers). */
  keepLayers?: number;
  /** Container images: also keep the layers with these digests (`sha256:HEX` or `HEX`). */
  keepLayerDigests?: readonly string[];
  /** Handler names to enable, or a "+x,-y" spec; default all. */
  formats?: readonly string[] | string;
  /**
   * Per-file deadline in ms (CLI --deadline; default limits.deadlineMs, 10 minutes; 0: none).
   * A file not done by then is an error, left untouched; see README "Safety" for the guarantee.
   */
  deadlineMs?: number;
  limits?: Partial<Limits>;
}

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

function mapPathsOf(m: NormalizeOptions['mapPaths']): PathMap[] {
  if (!m) return [];
  const pairs = Array.isArray(m)
    ? m.map((x) => (typeof x === 'string' ? parseMapPath(x) : { from: x.from, to: x.to }))
    : Object.entries(m as Record<string, string>).map(([from, to]) => ({ from, to }));
  for (const p of pairs) {
    if (!p.from || !p.to) throw new TypeError(`mapPaths: ${JSON.stringify(p)}: OLD and NEW must both be non-empty paths`);
  }
  return pairs;
}

/** `sha256:HEX` or `HEX` (64 lower-case hex digits) -> HEX; anything else is a TypeError. */
function layerDigest(d: string): string {
  const m = /^(?:sha256:)?([0-9a-f]{64})$/.exec(d);
  if (!m) throw new TypeError(`a layer digest is sha256:<64 hex digits>, got ${JSON.stringify(d)}`);
  return m[1]!;
}

/** Validate and complete library options. Throws TypeError on a bad value. */
export function resolveOptions(o: NormalizeOptions = {}): Options {
  if (o.timestamp !== undefined && !(Number.isSafeInteger(o.timestamp) && o.timestamp >= 0)) {
    throw new TypeError(`timestamp must be a non-negative integer number of seconds, got ${o.timestamp}`);
  }
  if (o.clamp && o.timestamp === undefined) throw new TypeError('clamp needs a timestamp');
  if (o.ociOwners !== undefined && o.ociOwners !== 'keep' && o.ociOwners !== 'zero') throw new TypeError(`ociOwners must be 'keep' or 'zero', got ${o.ociOwners}`);
  if (o.peTimestamp !== undefined && o.peTimestamp !== 'content' && o.peTimestamp !== 'T') throw new TypeError(`peTimestamp must be 'content' or 'T', got ${o.peTimestamp}`);
  if (o.rpmBuildHost !== undefined && (typeof o.rpmBuildHost !== 'string' || o.rpmBuildHost.includes('\0'))) throw new TypeError('rpmBuildHost must be a string without NUL bytes');
  if (o.keepLayers !== undefined && !(Number.isSafeInteger(o.keepLayers) && o.keepLayers >= 0)) throw new TypeError(`keepLayers must be a non-negative integer, got ${o.keepLayers}`);
  if (o.timestamp !== undefined && o.timestamp > MAX_TIMESTAMP) {
    throw new TypeError(
      `timestamp ${o.timestamp} is after 2106-02-07 06:28:15 UTC (${MAX_TIMESTAMP}), the latest time every format can store (cpio and pyc hold 32-bit times, zip DOS dates end in 2107)`,
    );
  }
  const deadlineMs = o.deadlineMs ?? o.limits?.deadlineMs;
  if (deadlineMs !== undefined && !(Number.isSafeInteger(deadlineMs) && deadlineMs >= 0)) throw new TypeError(`deadlineMs must be a non-negative integer, got ${deadlineMs}`);
  const all = HANDLERS.map((h) => h.name);
  const formats =
    o.formats === undefined ? all : typeof o.formats === 'string' ? applyFormatsSpec(o.formats, all) : applyFormatsSpec(o.formats.join(','), all);
  return defaultOptions({
    ...(o.timestamp !== undefined ? { timestamp: o.timestamp } : {}),
    clamp: Boolean(o.clamp),
    mapPaths: mapPathsOf(o.mapPaths),
    sortArMembers: Boolean(o.sortArMembers),
    ...(o.pycInvalidation ? { pycInvalidation: o.pycInvalidation } : {}),
    ...(o.pycSortSets ? { pycSortSets: true } : {}),
    ...(o.rpmBuildHost !== undefined ? { rpmBuildHost: o.rpmBuildHost } : {}),
    ...(o.ociOwners ? { ociOwners: o.ociOwners } : {}),
    ...(o.peTimestamp ? { peTimestamp: o.peTimestamp } : {}),
    ...(o.keepLayers ? { keepLayers: o.keepLayers } : {}),
    ...(o.keepLayerDigests?.length ? { keepLayerDigests: o.keepLayerDigests.map(layerDigest) } : {}),
    formats,
    limits: { ...DEFAULT_LIMITS, ...o.limits, ...(deadlineMs !== undefined ? { deadlineMs } : {}) },
  });
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

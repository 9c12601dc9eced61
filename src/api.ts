// The library API: normalizeBuffer, normalizeFile, normalizeTree. The CLI is built on it.
import { HANDLERS } from '../formats/index.js';
import { normalizeBytes } from './engine.js';
import { SpillPool } from './file-io.js';
import { normalizeFileJob } from './normalize-file.js';
import { applyFormatsSpec, defaultOptions, parseMapPath } from './options.js';
import { defaultJobs, makeRunner, runAll } from './pool.js';
import { summarize, type FileReport, type FileStatus, type Summary } from './report.js';
import { DEFAULT_LIMITS, type Change, type Limits, type Options, type PathMap } from './types.js';
import { walk, type WalkProblem } from './walk.js';

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
  /** PE images: stamps derived from the content ('content', default, as lld-link /Brepro) or T ('T') (CLI --pe-timestamp). */
  peTimestamp?: 'content' | 'T';
  /** Container image layers: keep numeric owners ('keep', default) or set them to 0 (CLI --oci-owners). */
  ociOwners?: 'keep' | 'zero';
  /** Container images: leave the first N layers of each image byte-identical (CLI --keep-layers). */
  keepLayers?: number;
  /** Container images: also keep the layers with these digests (`sha256:HEX` or `HEX`). */
  keepLayerDigests?: readonly string[];
  /** Handler names to enable, or a "+x,-y" spec; default all. */
  formats?: readonly string[] | string;
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
  /** Worker threads; default: available parallelism. */
  jobs?: number;
  check?: boolean;
  /** Called for each file in sorted path order as soon as it and all before it are done. */
  onReport?: (report: FileReport) => void;
  /** Called when the walk is done with the number of files to process. */
  onStart?: (files: number, bytes: number) => void;
}

export interface TreeResult {
  reports: FileReport[];
  problems: WalkProblem[];
  summary: Summary;
}

/** Names and descriptions of every format handler, in detection order. */
export function listFormats(): Array<{ name: string; description: string; extensions: readonly string[] }> {
  return HANDLERS.map((h) => ({ name: h.name, description: h.description, extensions: h.extensions }));
}

function mapPathsOf(m: NormalizeOptions['mapPaths']): PathMap[] {
  if (!m) return [];
  if (Array.isArray(m)) return m.map((x) => (typeof x === 'string' ? parseMapPath(x) : { from: x.from, to: x.to }));
  return Object.entries(m as Record<string, string>).map(([from, to]) => ({ from, to }));
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
  if (o.keepLayers !== undefined && !(Number.isSafeInteger(o.keepLayers) && o.keepLayers >= 0)) throw new TypeError(`keepLayers must be a non-negative integer, got ${o.keepLayers}`);
  const all = HANDLERS.map((h) => h.name);
  const formats =
    o.formats === undefined ? all : typeof o.formats === 'string' ? applyFormatsSpec(o.formats, all) : applyFormatsSpec(o.formats.join(','), all);
  return defaultOptions({
    ...(o.timestamp !== undefined ? { timestamp: o.timestamp } : {}),
    clamp: Boolean(o.clamp),
    mapPaths: mapPathsOf(o.mapPaths),
    sortArMembers: Boolean(o.sortArMembers),
    ...(o.pycInvalidation ? { pycInvalidation: o.pycInvalidation } : {}),
    ...(o.ociOwners ? { ociOwners: o.ociOwners } : {}),
    ...(o.peTimestamp ? { peTimestamp: o.peTimestamp } : {}),
    ...(o.keepLayers ? { keepLayers: o.keepLayers } : {}),
    ...(o.keepLayerDigests?.length ? { keepLayerDigests: o.keepLayerDigests.map(layerDigest) } : {}),
    formats,
    limits: { ...DEFAULT_LIMITS, ...o.limits },
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

/** Normalize one file in place (atomically), or into `output`. */
export async function normalizeFile(path: string, options: FileOptions = {}): Promise<FileReport> {
  return normalizeFileJob(
    { path, options: resolveOptions(options), ...(options.check ? { check: true } : {}), ...(options.output ? { output: options.output } : {}) },
    HANDLERS,
  );
}

/** Walk files and directories, normalize every regular file, report in sorted path order. */
export async function normalizeTree(paths: string | readonly string[], options: TreeOptions = {}): Promise<TreeResult> {
  const opts = resolveOptions(options);
  const roots = typeof paths === 'string' ? [paths] : paths;
  const { files, problems } = walk(roots, { ociLayouts: opts.formats.includes('oci') });
  options.onStart?.(files.length, files.reduce((a, f) => a + f.size, 0));
  const jobs = options.jobs ?? defaultJobs();
  const runner = makeRunner(jobs, files.length);
  try {
    const reports = await runAll(
      runner,
      files.map((f) => ({
        path: f.path,
        options: opts,
        roots,
        ...(options.check ? { check: true } : {}),
        ...(f.links.length ? { links: f.links } : {}),
        ...(f.ociLayout ? { ociLayout: true } : {}),
      })),
      jobs,
      (r) => options.onReport?.(r),
      files.map((f) => f.size),
    );
    return { reports, problems, summary: summarize(reports) };
  } finally {
    await runner.close();
  }
}

/** The exit code DESIGN.md section 5 gives for a finished run. */
export function exitCodeFor(result: TreeResult, check: boolean): 0 | 1 | 3 {
  if (result.summary.errors > 0 || result.problems.some((p) => p.severity === 'error')) return 3;
  if (check && result.summary.changed > 0) return 1;
  return 0;
}

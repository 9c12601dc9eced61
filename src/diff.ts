// detnorm diff: are two artifacts (or two trees) identical after normalization, and what differs
// between A and B? The verdict comes from normalizing both sides and comparing the bytes. The
// differences come from the handlers: each format compares its own fields (Handler.compare,
// Handler.compareDirectory) and names the causes its bytes support; this module pairs files,
// recurses into the member pairs a handler hands back, and prints. It knows no format (like
// diffoscope's core). Each difference is compared twice, on the inputs and on their normalized
// forms: what normalization removes is marked `normalized`, what is left is what still differs.
// A and B are read and never written.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { HANDLERS } from '../formats/index.js';
import { normalizeBuffer, resolveOptions, type NormalizeOptions } from './api.js';
import { directoryHandler, listFiles, makeContext, normalizedDirectory } from './directory.js';
import { Engine, describeError, makeProbe, normalizeBytes, selectHandler } from './engine.js';
import { SpillPool } from './file-io.js';
import { BufferSource, bytesEqual as equal, readAll, sourcesEqual } from './io.js';
import { FormatError, type Change, type Comparison, type Context, type DifferenceKind, type DirectoryFiles, type FieldDifference, type Handler, type Options, type Source } from './types.js';
import { byteCompare, walk } from './walk.js';

export type { DifferenceKind, FieldDifference } from './types.js';

/** One difference between A and B, as `detnorm diff` reports it. */
export interface Difference extends FieldDifference {
  /** The file, relative to the compared roots. */
  readonly path: string;
  /** True when normalization removes it (detnorm on both sides makes this field equal). */
  readonly normalized: boolean;
  /** The whole record as one line of text (what the text output prints, without the cause). */
  readonly detail: string;
}

export type PairStatus = 'identical' | 'normalized' | 'differs' | 'only-in-a' | 'only-in-b' | 'error';

export interface PairReport {
  readonly path: string;
  readonly format?: string;
  /** identical: same bytes; normalized: the same after normalization; differs; only-in-a/b; error. */
  readonly status: PairStatus;
  /** What differs between A and B: what is left after normalization first, then what it removes. */
  readonly differences: readonly Difference[];
  /** The kinds of the differences normalization removes (timestamp, owner, order, ...). */
  readonly normalizedAway: readonly string[];
  /** The distinct causes of the differences, as the formats word them. */
  readonly causes: readonly string[];
  /** With `verbose`: what is the same on both sides but not canonical (detnorm changes it on both). */
  readonly notCanonical?: readonly string[];
  /** Notices from normalizing each side ("A: ...", "B: ..."). */
  readonly notices?: readonly string[];
}

export interface DiffResult {
  readonly identical: boolean;
  readonly pairs: readonly PairReport[];
}

export interface DiffOptions extends NormalizeOptions {
  /** Also work out what is equal on both sides but not canonical (PairReport.notCanonical). */
  verbose?: boolean;
}

/** How deep `compare` follows members into members. */
const MAX_COMPARE_DEPTH = 8;

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  const A = Buffer.from(a.buffer, a.byteOffset, a.length);
  const B = Buffer.from(b.buffer, b.byteOffset, b.length);
  let i = 0;
  const block = 4096;
  while (i + block <= n && A.compare(B, i, i + block, i, i + block) === 0) i += block;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Everything a comparison needs besides the two sides. */
class Comparer {
  private readonly spills: SpillPool;
  private readonly engine: Engine;
  constructor(readonly options: Options) {
    this.spills = new SpillPool(options.limits.spillBytes);
    this.engine = new Engine({ options, handlers: HANDLERS, spill: this.spills.make });
  }

  context(path: string, depth: number, notices: string[] = []): Context {
    const base = makeContext(this.engine, { path, options: this.options }, this.spills.make, notices);
    return { ...base, depth };
  }

  dispose(): void {
    this.spills.dispose();
  }

  private async handlerOf(src: Source, name: string): Promise<Handler | undefined> {
    return selectHandler(await makeProbe(src, name), HANDLERS, this.options.formats);
  }

  /** The differences between two sources named `name` (`member`: their path inside the artifact). */
  async sources(a: Source, b: Source, name: string, member: string | undefined, depth: number): Promise<FieldDifference[]> {
    if (await sourcesEqual(a, b)) return [];
    const at = member === undefined ? {} : { member };
    const [ha, hb] = [await this.handlerOf(a, name), await this.handlerOf(b, name)];
    if (ha?.name !== hb?.name) {
      return [{ kind: 'type', field: 'format', ...at, a: ha?.name ?? 'not an artifact', b: hb?.name ?? 'not an artifact' }];
    }
    if (ha?.compare && depth < MAX_COMPARE_DEPTH) {
      try {
        const c = await ha.compare(a, b, this.context(member ?? name, depth));
        const out = await this.expand(c, member, depth);
        if (out.length === 0) out.push({ kind: 'layout', field: `${ha.name} structure`, ...at, note: `the files differ outside the fields detnorm compares for ${ha.name}`, offset: firstDiff(await readAll(a), await readAll(b)) });
        return out;
      } catch (e) {
        if (!(e instanceof FormatError || e instanceof RangeError)) throw e;
        // Malformed on one side: the bytes are all there is to compare.
        return [{ ...(await this.bytes(a, b, ha.name, member)), note: `not comparable field by field: ${describeError(e)}` }];
      }
    }
    if (ha) {
      // A handler without compare(): what normalization changed on each side, in the handler's
      // own words, where the two sides' changes differ; and whether it makes them equal.
      const [na, nb] = [await this.normalizeOne(a, name), await this.normalizeOne(b, name)];
      const out = changeDifferences(ha.name, na.changes, nb.changes, member);
      if (equal(na.output, nb.output)) return out.length ? out : [{ kind: 'metadata', field: `${ha.name} fields`, ...at, note: 'differ only in fields detnorm normalizes' }];
      return [...out, await this.bytes(new BufferSource(na.output), new BufferSource(nb.output), ha.name, member)];
    }
    const [da, db] = [await readAll(a), await readAll(b)];
    const json = jsonFieldDiffs(da, db);
    if (json) return json.map((j) => ({ kind: 'content' as const, field: `JSON ${j.path}`, ...at, a: j.a, b: j.b }));
    return [await this.bytes(a, b, undefined, member)];
  }

  /** A comparison's own records, then its member pairs compared in turn. */
  async expand(c: Comparison, member: string | undefined, depth: number): Promise<FieldDifference[]> {
    const join = (m: string | undefined) => (member === undefined ? m : m === undefined ? member : `${member}!/${m}`);
    const out: FieldDifference[] = c.differences.map((d) => {
      const m = join(d.member);
      const { member: _drop, ...rest } = d;
      return m === undefined ? rest : { ...rest, member: m };
    });
    for (const p of c.members ?? []) out.push(...(await this.sources(p.a, p.b, p.name, join(p.name), depth + 1)));
    return out;
  }

  private async bytes(a: Source, b: Source, format: string | undefined, member: string | undefined): Promise<FieldDifference> {
    const [da, db] = [await readAll(a), await readAll(b)];
    return {
      kind: 'content',
      field: format ? `${format} data` : 'data',
      ...(member === undefined ? {} : { member }),
      ...(da.length !== db.length ? { a: `${da.length} bytes`, b: `${db.length} bytes` } : {}),
      offset: firstDiff(da, db),
    };
  }

  private async normalizeOne(src: Source, name: string): Promise<{ output: Uint8Array; changes: readonly Change[] }> {
    const r = await normalizeBytes(await readAll(src), name, this.options, HANDLERS, this.spills.make);
    return { output: r.output, changes: r.status === 'changed' ? r.changes : [] };
  }

  /** Two directory artifacts of handler `h`. */
  async directories(h: Handler, a: DirectoryFiles, b: DirectoryFiles, path: string): Promise<FieldDifference[]> {
    if (h.compareDirectory) return this.expand(await h.compareDirectory(a, b, this.context(path, 0)), undefined, 0);
    const out: FieldDifference[] = [];
    const names = [...new Set([...a.keys(), ...b.keys()])].sort(byteCompare);
    for (const n of names) {
      const [sa, sb] = [a.get(n), b.get(n)];
      if (!sb) out.push({ kind: 'only-in-a', field: 'only in A', member: n, note: 'file' });
      else if (!sa) out.push({ kind: 'only-in-b', field: 'only in B', member: n, note: 'file' });
      else out.push(...(await this.sources(sa, sb, n, n, 1)));
    }
    return out;
  }
}

/**
 * For a handler without `compare`: one record per change kind whose change records differ
 * between the two sides (each record's text is the handler's own: "ih_time 1700000000 -> 0").
 */
function changeDifferences(format: string, ca: readonly Change[], cb: readonly Change[], member: string | undefined): FieldDifference[] {
  const text = (cs: readonly Change[], kind: string) =>
    cs
      .filter((c) => c.kind === kind)
      .map((c) => `${c.member ? `${c.member}: ` : ''}${c.what}${c.count && c.count > 1 ? ` (x${c.count})` : ''}`)
      .join('; ');
  const kinds = [...new Set([...ca, ...cb].map((c) => c.kind))];
  const out: FieldDifference[] = [];
  for (const k of kinds) {
    const [ta, tb] = [text(ca, k), text(cb, k)];
    if (ta !== tb) out.push({ kind: k, field: `${format} ${k} (what detnorm changes)`, ...(member === undefined ? {} : { member }), a: ta || '(unchanged)', b: tb || '(unchanged)' });
  }
  return out;
}

/** For two JSON documents (not artifacts): the paths of the values that differ. */
function jsonFieldDiffs(a: Uint8Array, b: Uint8Array, max = 10): Array<{ path: string; a: string; b: string }> | undefined {
  let ja: unknown;
  let jb: unknown;
  try {
    ja = JSON.parse(Buffer.from(a).toString('utf8'));
    jb = JSON.parse(Buffer.from(b).toString('utf8'));
  } catch {
    return undefined;
  }
  const out: Array<{ path: string; a: string; b: string }> = [];
  const show = (v: unknown) => {
    const t = JSON.stringify(v);
    return t === undefined ? '(none)' : t.length > 60 ? `${t.slice(0, 57)}...` : t;
  };
  const walkJson = (x: unknown, y: unknown, p: string): void => {
    if (out.length >= max) return;
    const obj = (v: unknown) => typeof v === 'object' && v !== null;
    if (obj(x) && obj(y) && Array.isArray(x) === Array.isArray(y)) {
      const keys = [...new Set([...Object.keys(x as object), ...Object.keys(y as object)])];
      for (const k of keys) walkJson((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], Array.isArray(x) ? `${p}[${k}]` : p ? `${p}.${k}` : k);
      return;
    }
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push({ path: p || '(root)', a: show(x), b: show(y) });
  };
  walkJson(ja, jb, '');
  return out.length ? out : undefined;
}

/** One record as a line of text (without its member and cause). */
export function describeDifference(d: FieldDifference): string {
  const values = d.a !== undefined || d.b !== undefined ? ` ${d.a ?? '(none)'} vs ${d.b ?? '(none)'}` : '';
  let t = `${d.field}${values}`;
  if (d.note) t += values ? ` (${d.note})` : `: ${d.note}`;
  if (d.count !== undefined && d.count > 1 && d.kind !== 'order' && !d.note?.startsWith(`${d.count} `)) t += ` (x${d.count})`;
  if (d.offset !== undefined) t += ` (first difference at byte 0x${d.offset.toString(16)})`;
  return t;
}

const keyOf = (d: FieldDifference) => `${d.member ?? ''}\0${d.kind}\0${d.field}`;

/**
 * The report's differences: those of the inputs (A and B as given), each marked `normalized`
 * when no record of the same member and field is left between the normalized sides (and the
 * format did not call it unfixable), then any record found only between the normalized sides.
 */
function merge(path: string, raw: readonly FieldDifference[], left: readonly FieldDifference[]): Difference[] {
  const leftKeys = new Set(left.map(keyOf));
  const rawKeys = new Set(raw.map(keyOf));
  const mk = (d: FieldDifference, normalized: boolean): Difference => ({ ...d, path, normalized, detail: describeDifference(d) });
  return [...raw.map((d) => mk(d, !d.unfixable && !leftKeys.has(keyOf(d)))), ...left.filter((d) => !rawKeys.has(keyOf(d))).map((d) => mk(d, false))];
}

function summaryFields(differences: readonly Difference[]): Pick<PairReport, 'normalizedAway' | 'causes'> {
  return {
    normalizedAway: [...new Set(differences.filter((d) => d.normalized).map((d) => d.kind))].sort(),
    causes: [...new Set(differences.flatMap((d) => (d.cause ? [d.cause] : [])))],
  };
}

/** Changes made on both sides alike, of kinds no difference has: the same on both, not canonical. */
function notCanonical(ca: readonly Change[], cb: readonly Change[], differences: readonly Difference[]): string[] {
  const kinds = new Set(differences.map((d) => d.kind));
  const key = (c: Change) => `${c.kind}\0${c.member ?? ''}\0${c.what}\0${c.count ?? 1}`;
  const inB = new Set(cb.map(key));
  return ca.filter((c) => inB.has(key(c)) && !kinds.has(c.kind)).map((c) => `${c.kind}: ${c.member ? `${c.member}: ` : ''}${c.what}${c.count && c.count > 1 ? ` (x${c.count})` : ''}`);
}

/** Compare two artifacts in memory. `path` names the pair in the report, `name` is the file name (for detection). */
export async function diffPair(a: Uint8Array, b: Uint8Array, path: string, name: string, lib: DiffOptions = {}): Promise<PairReport> {
  if (equal(a, b)) {
    if (!lib.verbose) return { path, status: 'identical', differences: [], normalizedAway: [], causes: [] };
    const r = await normalizeBuffer(a, { ...lib, name });
    const nc = r.changed ? r.changes.map((c) => `${c.kind}: ${c.member ? `${c.member}: ` : ''}${c.what}${c.count && c.count > 1 ? ` (x${c.count})` : ''}`) : [];
    return { path, ...(r.format ? { format: r.format } : {}), status: 'identical', differences: [], normalizedAway: [], causes: [], ...(nc.length ? { notCanonical: nc } : {}) };
  }
  const options = resolveOptions(lib);
  const [sa, sb] = [await normalizeBuffer(a, { ...lib, name }), await normalizeBuffer(b, { ...lib, name })];
  const format = sa.format ?? sb.format;
  const cmp = new Comparer(options);
  try {
    const raw = await cmp.sources(new BufferSource(a), new BufferSource(b), name, undefined, 0);
    const same = equal(sa.output, sb.output);
    const left: FieldDifference[] = [];
    if (!same) {
      for (const [s, label] of [[sa, 'A'], [sb, 'B']] as const) {
        if (s.status === 'error') left.push({ kind: 'error', field: `${label} could not be normalized`, note: s.reason ?? 'error' });
      }
      left.push(...(await cmp.sources(new BufferSource(sa.output), new BufferSource(sb.output), name, undefined, 0)));
    }
    const differences = merge(path, raw, left);
    const notices = [...sa.notices.map((n) => `A: ${n}`), ...sb.notices.map((n) => `B: ${n}`)];
    return {
      path,
      ...(format ? { format } : {}),
      status: same ? 'normalized' : 'differs',
      differences,
      ...summaryFields(differences),
      ...(lib.verbose ? { notCanonical: notCanonical(sa.changes, sb.changes, differences) } : {}),
      ...(notices.length ? { notices } : {}),
    };
  } finally {
    cmp.dispose();
  }
}

/** Two directory artifacts (OCI image layouts) claimed by handler `h`. */
async function diffDirectories(h: Handler, a: string, b: string, path: string, lib: DiffOptions): Promise<PairReport> {
  const options = resolveOptions(lib);
  const cmp = new Comparer(options);
  const [fa, fb] = [listFiles(a), listFiles(b)];
  try {
    const [na, nb] = [await normalizedDirectory(h, fa, cmp.context(a, 0)), await normalizedDirectory(h, fb, cmp.context(b, 0))];
    const keys = [...new Set([...na.files.keys(), ...nb.files.keys()])];
    let same = keys.every((k) => na.files.has(k) && nb.files.has(k));
    for (const k of keys) if (same) same = await sourcesEqual(na.files.get(k)!, nb.files.get(k)!);
    const raw = await cmp.directories(h, fa, fb, path);
    const left = same ? [] : await cmp.directories(h, na.files, nb.files, path);
    if (!same && left.length === 0) left.push({ kind: 'layout', field: `${h.name} structure`, note: 'the directories differ outside what detnorm compares' });
    const differences = merge(path, raw, left);
    return {
      path,
      format: h.name,
      status: same ? 'normalized' : 'differs',
      differences,
      ...summaryFields(differences),
      ...(lib.verbose ? { notCanonical: notCanonical(na.changes, nb.changes, differences) } : {}),
    };
  } finally {
    for (const f of [...fa.values(), ...fb.values()]) f.close();
    cmp.dispose();
  }
}

function pairName(a: string, b: string): string {
  return basename(a) === basename(b) ? basename(a) : `${basename(a)} / ${basename(b)}`;
}

/** Compare two files, two directory artifacts or two directory trees. */
export async function diffPaths(a: string, b: string, lib: DiffOptions = {}): Promise<DiffResult> {
  const options = resolveOptions(lib);
  const dirFormat = (names: readonly string[]) => directoryHandler(names, HANDLERS, options.formats);
  const sa = lstatSync(a);
  const sb = lstatSync(b);
  const pairs: PairReport[] = [];
  const errorPair = (path: string, e: unknown): PairReport => {
    const d: FieldDifference = { kind: 'error', field: 'error', note: describeError(e) };
    return { path, status: 'error', differences: [{ ...d, path, normalized: false, detail: describeDifference(d) }], normalizedAway: [], causes: [] };
  };
  const dirA = sa.isDirectory() ? dirFormat(readdirSync(a)) : undefined;
  const dirB = sb.isDirectory() ? dirFormat(readdirSync(b)) : undefined;
  if (sa.isFile() && sb.isFile()) {
    pairs.push(await diffPair(readFileSync(a), readFileSync(b), pairName(a, b), basename(a), lib));
  } else if (dirA && dirA === dirB) {
    pairs.push(await diffDirectories(dirA, a, b, pairName(a, b), lib));
  } else if (sa.isDirectory() && sb.isDirectory()) {
    const rel = (root: string) => {
      const out = new Map<string, { path: string; directory?: string }>();
      for (const f of walk([root], { directoryFormat: (names) => dirFormat(names)?.name }).files) {
        for (const p of [f.path, ...f.links]) out.set(relative(root, p), { path: p, ...(f.directory ? { directory: f.directory } : {}) });
      }
      return out;
    };
    const fa = rel(a);
    const fb = rel(b);
    const names = [...new Set([...fa.keys(), ...fb.keys()])].sort(byteCompare);
    for (const n of names) {
      const pa = fa.get(n);
      const pb = fb.get(n);
      const only = (status: 'only-in-a' | 'only-in-b', side: 'A' | 'B'): PairReport => {
        const d: FieldDifference = { kind: status, field: `only in ${side}`, note: 'file' };
        return { path: n, status, differences: [{ ...d, path: n, normalized: false, detail: describeDifference(d) }], normalizedAway: [], causes: [] };
      };
      if (!pb) pairs.push(only('only-in-a', 'A'));
      else if (!pa) pairs.push(only('only-in-b', 'B'));
      else {
        try {
          const h = pa.directory && pa.directory === pb.directory ? HANDLERS.find((x) => x.name === pa.directory) : undefined;
          if (h) pairs.push(await diffDirectories(h, pa.path, pb.path, n, lib));
          else if (pa.directory || pb.directory) pairs.push(errorPair(n, new Error('a directory artifact on one side only')));
          else pairs.push(await diffPair(readFileSync(pa.path), readFileSync(pb.path), n, basename(n), lib));
        } catch (e) {
          pairs.push(errorPair(n, e));
        }
      }
    }
  } else {
    throw new TypeError('diff compares two files or two directories');
  }
  return { identical: pairs.every((p) => p.status === 'identical' || p.status === 'normalized'), pairs };
}

function statusText(p: PairReport): string {
  const s = p.status === 'normalized' ? 'identical after normalization' : p.status === 'differs' ? 'DIFFERS' : p.status;
  return `${p.path}: ${s}${p.format ? ` (${p.format})` : ''}`;
}

function recordLines(d: Difference, indent: string): string[] {
  const lines = [`${indent}${d.member ? `${d.member}: ` : ''}${d.detail}`];
  if (d.cause) lines.push(`${indent}  cause: ${d.cause}`);
  return lines;
}

/** Plain-text lines for a diff result (`summary`: one line per file). */
export function formatDiff(r: DiffResult, verbose: boolean, summary = false): string[] {
  const lines: string[] = [];
  for (const p of r.pairs) {
    if (p.status === 'identical' && !verbose) continue;
    if (summary) {
      const left = [...new Set(p.differences.filter((d) => !d.normalized).map((d) => d.kind))];
      const gone = [...new Set(p.differences.filter((d) => d.normalized).map((d) => d.kind))];
      const parts = [...(left.length ? [left.join(', ')] : []), ...(gone.length ? [`normalized: ${gone.join(', ')}`] : [])];
      lines.push(`${statusText(p)}${parts.length ? `: ${parts.join('; ')}` : ''}`);
      continue;
    }
    lines.push(statusText(p));
    const left = p.differences.filter((d) => !d.normalized);
    const gone = p.differences.filter((d) => d.normalized);
    for (const d of left) lines.push(...recordLines(d, '  '));
    if (gone.length && left.length) lines.push('  normalized away:');
    for (const d of gone) lines.push(...recordLines(d, left.length ? '    ' : '  '));
    if (verbose) {
      for (const n of p.notCanonical ?? []) lines.push(`  both: not canonical: ${n}`);
      for (const n of p.notices ?? []) lines.push(`  notice: ${n}`);
    }
  }
  const n = r.pairs.length;
  const same = r.pairs.filter((p) => p.status === 'identical').length;
  const norm = r.pairs.filter((p) => p.status === 'normalized').length;
  lines.push(`detnorm diff: ${n} file${n === 1 ? '' : 's'}: ${same} identical, ${norm} identical after normalization, ${n - same - norm} differ`);
  return lines;
}

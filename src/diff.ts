// detnorm diff: are two artifacts (or two trees) identical after normalization? If not, say
// where (file, member), what kind of difference (content, metadata detnorm normalizes,
// metadata it cannot), the first differing offset, and the likely cause where the bytes tell.
// It reads A and B and never writes to them. Like diffoscope, the core stays format-agnostic:
// containers list their members through the optional Handler.members.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { HANDLERS } from '../formats/index.js';
import { normalizeBuffer, resolveOptions, type NormalizeOptions } from './api.js';
import { Engine, makeProbe, MemorySpill, selectHandler } from './engine.js';
import { SpillPool } from './file-io.js';
import { listFiles, makeContext } from './oci-dir.js';
import { imageMembers } from '../formats/oci/index.js';
import { normalizeOciLayout } from '../formats/oci/layout.js';
import { BufferSource, bytesEqual as equal, readAll, sourcesEqual } from './io.js';
import type { Change, Context, Handler, MemberInfo, Options, Source } from './types.js';
import { byteCompare, isOciLayoutDir, walk } from './walk.js';

export type DiffKind = 'only-in-a' | 'only-in-b' | 'content' | 'type' | 'unfixable' | 'error';

export interface Difference {
  /** The file, relative to the compared roots. */
  readonly path: string;
  /** The member inside it, nested members joined by '!/'. */
  readonly member?: string;
  readonly kind: DiffKind;
  readonly detail: string;
  /** First differing byte of the normalized file or member. */
  readonly offset?: number;
}

export interface PairReport {
  readonly path: string;
  readonly format?: string;
  /** 'identical': same bytes; 'normalized': same after normalization; 'differs'; 'only-in-a/b'; 'error'. */
  readonly status: 'identical' | 'normalized' | 'differs' | 'only-in-a' | 'only-in-b' | 'error';
  /** Kinds of non-determinism normalization removed (timestamp, owner, order, ...). */
  readonly normalizedAway: readonly string[];
  /** Likely causes told from the bytes. */
  readonly causes: readonly string[];
  readonly differences: readonly Difference[];
}

export interface DiffResult {
  readonly identical: boolean;
  readonly pairs: readonly PairReport[];
}

const KIND_CAUSE: Record<string, string> = {
  timestamp: 'timestamps (the build time or file mtimes)',
  owner: 'owners (the building user: uid/gid, user and group names)',
  order: 'member order (file system or glob order)',
  mode: 'permissions (the umask)',
  path: 'build paths (the checkout directory)',
  'build-id': 'the GNU build-id (it hashes the other differences, such as the build path)',
  marshal: 'pyc FLAG_REF bits (marshal sets them from reference counts at dump time)',
  'extra-field': 'zip extra fields (Info-ZIP UT/ux: times and uid/gid)',
  header: 'header fields (e.g. a gzip file name or OS byte)',
  padding: 'padding or alignment bytes',
  layout: 'section layout (stale bytes in gaps, section order)',
  compression: 'compression settings',
  metadata: 'other recorded metadata (build host, user, date headers)',
};

const GZIP_OS: Record<number, string> = { 0: 'FAT/Windows', 3: 'Unix', 7: 'Macintosh', 10: 'TOPS-20', 11: 'NTFS/Windows', 255: 'unknown (Python gzip writes 255)' };

interface Side {
  normalized: Uint8Array;
  format?: string;
  changes: readonly Change[];
  notices: readonly string[];
  status: string;
  reason?: string;
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  const A = Buffer.from(a.buffer, a.byteOffset, a.length);
  const B = Buffer.from(b.buffer, b.byteOffset, b.length);
  // Coarse search in blocks, then bytes.
  let i = 0;
  const block = 4096;
  while (i + block <= n && A.compare(B, i, i + block, i, i + block) === 0) i += block;
  while (i < n && a[i] === b[i]) i++;
  return i;
}


function listCtx(options: Options, path: string): Context {
  return {
    options,
    path,
    depth: 0,
    spill: () => new MemorySpill(),
    notice: () => {},
    normalizeMember: async () => ({ changed: false }),
  };
}

async function handlerFor(bytes: Uint8Array, name: string, options: Options): Promise<Handler | undefined> {
  return selectHandler(await makeProbe(new BufferSource(bytes), name), HANDLERS, options.formats);
}

async function listMembers(h: Handler, bytes: Uint8Array, name: string, options: Options): Promise<MemberInfo[] | undefined> {
  if (!h.members) return undefined;
  try {
    const out: MemberInfo[] = [];
    for await (const m of h.members(new BufferSource(bytes), listCtx(options, name))) out.push(m);
    return out;
  } catch {
    return undefined;
  }
}

/** Unique keys for members (a duplicate name gets '#2', '#3' ...). */
function keyed(ms: readonly MemberInfo[]): Map<string, MemberInfo> {
  const out = new Map<string, MemberInfo>();
  for (const m of ms) {
    let k = m.name;
    for (let i = 2; out.has(k); i++) k = `${m.name}#${i}`;
    out.set(k, m);
  }
  return out;
}

function fmtOffset(n: number): string {
  return `0x${n.toString(16)}`;
}

/** Likely causes from the raw (not normalized) bytes of both sides, looking into nested members. */
async function rawCauses(a: Uint8Array, b: Uint8Array, name: string, options: Options, depth = 0): Promise<string[]> {
  const causes: string[] = [];
  const h = await handlerFor(a, name, options);
  if (!h) return causes;
  if (h.explain) causes.push(...h.explain(a, b));
  const [la, lb] = [await listMembers(h, a, name, options), await listMembers(h, b, name, options)];
  if (!la || !lb) return causes;
  const ka = keyed(la);
  const kb = keyed(lb);
  // DOS times (zip) shifted by one whole time-zone offset: written in local time.
  const dos = (m: MemberInfo | undefined) => {
    const t = m?.meta.dosTime;
    const x = typeof t === 'string' ? /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)$/.exec(t) : null;
    return x ? Date.UTC(+x[1]!, +x[2]! - 1, +x[3]!, +x[4]!, +x[5]!, +x[6]!) / 1000 : undefined;
  };
  const deltas = new Set<number>();
  for (const [k, m] of ka) {
    const ta = dos(m);
    const tb = dos(kb.get(k));
    if (ta !== undefined && tb !== undefined) deltas.add(tb - ta);
  }
  if (deltas.size === 1) {
    const d = [...deltas][0]!;
    if (d !== 0 && d % 900 === 0 && Math.abs(d) <= 14 * 3600 && h.name === 'zip') {
      const sign = d > 0 ? '+' : '-';
      const hh = String(Math.floor(Math.abs(d) / 3600)).padStart(2, '0');
      const mm = String((Math.abs(d) % 3600) / 60).padStart(2, '0');
      causes.push(`every DOS time differs by ${sign}${hh}:${mm}, a whole time-zone offset: the zip was written in local time`);
    }
  }
  for (const [side, ms] of [['A', la], ['B', lb]] as const) {
    if (ms.some((m) => m.meta.uid === 65534 || m.meta.gid === 65534)) causes.push(`${side} has members owned by uid/gid 65534 (nobody): archived inside a sandbox or user namespace`);
    const os = ms.find((m) => typeof m.meta.os === 'number' && m.meta.os !== 3)?.meta.os;
    if (typeof os === 'number') causes.push(`${side}'s gzip OS byte is ${os} (${GZIP_OS[os] ?? 'other'}), not 3 (Unix): written on another OS or by another tool`);
  }
  const namesA = la.map((m) => m.name);
  const namesB = lb.map((m) => m.name);
  if (namesA.join('\0') !== namesB.join('\0') && [...namesA].sort().join('\0') === [...namesB].sort().join('\0')) {
    causes.push('the same members in a different order (file system or glob order)');
  }
  // Nested containers (a tar in a gzip, a jar in a zip): their members tell more.
  if (depth < 3) {
    for (const [k, m] of ka) {
      const o = kb.get(k);
      if (!m.data || !o?.data || m.data.size > 256 << 20 || o.data.size > 256 << 20) continue;
      const [da, db] = [await readAll(m.data), await readAll(o.data)];
      if (equal(da, db)) continue;
      const inner = await handlerFor(da, k, options);
      if (inner?.explain && !inner.members) causes.push(...inner.explain(da, db).map((c) => `${k}: ${c}`));
      if (inner?.members) causes.push(...(await rawCauses(da, db, k, options, depth + 1)).map((c) => `${k}: ${c}`));
    }
  }
  return [...new Set(causes)];
}

/** Differences between two member lists (already normalized containers). */
async function compareMembers(la: readonly MemberInfo[], lb: readonly MemberInfo[], path: string, member: string | undefined, options: Options, depth: number): Promise<Difference[]> {
  const ka = keyed(la);
  const kb = keyed(lb);
  const out: Difference[] = [];
  const keys = [...ka.keys(), ...[...kb.keys()].filter((k) => !ka.has(k))];
  for (const k of keys) {
    const sub = member === undefined ? k : `${member}!/${k}`;
    const ma = ka.get(k);
    const mb = kb.get(k);
    if (!mb) {
      out.push({ path, member: sub, kind: 'only-in-a', detail: `${ma!.type} only in A` });
      continue;
    }
    if (!ma) {
      out.push({ path, member: sub, kind: 'only-in-b', detail: `${mb.type} only in B` });
      continue;
    }
    if (ma.type !== mb.type) {
      out.push({ path, member: sub, kind: 'type', detail: `a ${ma.type} in A, a ${mb.type} in B` });
      continue;
    }
    for (const f of new Set([...Object.keys(ma.meta), ...Object.keys(mb.meta)])) {
      if (ma.meta[f] === mb.meta[f]) continue;
      const contentLike = f === 'linkTarget' || f === 'mode';
      out.push({
        path,
        member: sub,
        kind: contentLike ? 'content' : 'unfixable',
        detail: `${f}: ${JSON.stringify(ma.meta[f] ?? null)} in A, ${JSON.stringify(mb.meta[f] ?? null)} in B${contentLike ? '' : ' (a field detnorm keeps)'}`,
      });
    }
    if (ma.data && mb.data) {
      const da = await readAll(ma.data);
      const db = await readAll(mb.data);
      if (!equal(da, db)) out.push(...(await explain(da, db, k, path, sub, options, depth + 1)));
    }
  }
  return out;
}

/** Where two normalized artifacts differ: members, fields, offsets. */
async function explain(a: Uint8Array, b: Uint8Array, name: string, path: string, member: string | undefined, options: Options, depth: number): Promise<Difference[]> {
  const at = (m: string | undefined) => (m === undefined ? {} : { member: m });
  const h = await handlerFor(a, name, options);
  if (h && depth < options.limits.maxDepth) {
    const [la, lb] = [await listMembers(h, a, name, options), await listMembers(h, b, name, options)];
    if (la && lb) {
      const out = await compareMembers(la, lb, path, member, options, depth);
      if (out.length > 0) return out;
      const off = firstDiff(a, b);
      const na = la.map((m) => m.name).join('\0');
      const nb = lb.map((m) => m.name).join('\0');
      if (na !== nb) {
        const hint = h.name === 'ar' ? ' (ar member order can matter to the linker; --sort-ar-members sorts them)' : '';
        return [{ path, ...at(member), kind: 'unfixable', detail: `the same members in a different order, an order detnorm keeps for ${h.name}${hint}`, offset: off }];
      }
      return [{ path, ...at(member), kind: 'unfixable', detail: `the ${h.name} archives differ outside their members' data and fields (structure detnorm keeps, e.g. a comment)`, offset: off }];
    }
  }
  const off = firstDiff(a, b);
  const fields = h ? undefined : jsonFieldDiffs(a, b);
  if (fields) return fields.map((f) => ({ path, ...at(member), kind: 'content' as const, detail: `JSON field ${f}` }));
  const sizes = a.length === b.length ? '' : ` (sizes ${a.length} and ${b.length})`;
  return [{ path, ...at(member), kind: 'content', detail: `${h?.name ?? 'data'} differs${sizes}`, offset: off }];
}

/** For two JSON documents (an image config, a manifest): the paths of the values that differ. */
function jsonFieldDiffs(a: Uint8Array, b: Uint8Array, max = 10): string[] | undefined {
  let ja: unknown;
  let jb: unknown;
  try {
    ja = JSON.parse(Buffer.from(a).toString('utf8'));
    jb = JSON.parse(Buffer.from(b).toString('utf8'));
  } catch {
    return undefined;
  }
  const out: string[] = [];
  const show = (v: unknown) => {
    const t = JSON.stringify(v);
    return t === undefined ? 'absent' : t.length > 60 ? `${t.slice(0, 57)}...` : t;
  };
  const walkJson = (x: unknown, y: unknown, p: string): void => {
    if (out.length >= max) return;
    const obj = (v: unknown) => typeof v === 'object' && v !== null;
    if (obj(x) && obj(y) && Array.isArray(x) === Array.isArray(y)) {
      const keys = [...new Set([...Object.keys(x as object), ...Object.keys(y as object)])];
      for (const k of keys) walkJson((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], Array.isArray(x) ? `${p}[${k}]` : p ? `${p}.${k}` : k);
      return;
    }
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push(`${p || '(root)'}: ${show(x)} in A, ${show(y)} in B`);
  };
  walkJson(ja, jb, '');
  return out.length ? out : undefined;
}

/** An OCI image layout directory, normalized in memory: its files after normalization. */
async function normalizedLayout(root: string, options: Options): Promise<{ files: Map<string, Source>; changes: readonly Change[]; notices: string[] }> {
  const files = listFiles(root);
  const spills = new SpillPool(options.limits.spillBytes);
  const notices: string[] = [];
  const engine = new Engine({ options, handlers: HANDLERS, spill: spills.make });
  const r = await normalizeOciLayout(files, makeContext(engine, { path: root, options, check: true }, spills.make, notices));
  const out = new Map<string, Source>(files);
  for (const d of r.deletes) out.delete(d);
  for (const [k, v] of r.writes) out.set(k, new BufferSource(await readAll(v)));
  spills.dispose();
  return { files: out, changes: r.changes, notices };
}

/** Two OCI image layouts: identical after normalization? Else which image, layer, file, field. */
async function diffLayouts(a: string, b: string, path: string, lib: NormalizeOptions): Promise<PairReport> {
  const options = resolveOptions(lib);
  const [na, nb] = [await normalizedLayout(a, options), await normalizedLayout(b, options)];
  const kinds = [...new Set([...na.changes, ...nb.changes].map((c) => c.kind))].sort();
  const base = { path, format: 'oci', normalizedAway: kinds, causes: kinds.map((k) => KIND_CAUSE[k] ?? k) };
  const keys = [...new Set([...na.files.keys(), ...nb.files.keys()])];
  let same = keys.every((k) => na.files.has(k) && nb.files.has(k));
  for (const k of keys) if (same) same = await sourcesEqual(na.files.get(k)!, nb.files.get(k)!);
  if (same) return { ...base, status: 'normalized', differences: [] };
  const ctx = listCtx(options, path);
  const list = async (files: Map<string, Source>) => {
    const out: MemberInfo[] = [];
    for await (const m of imageMembers({ files, links: new Map() }, ctx)) out.push(m);
    return out;
  };
  const differences = await compareMembers(await list(na.files), await list(nb.files), path, undefined, options, 0);
  if (differences.length === 0) differences.push({ path, kind: 'unfixable', detail: 'the layouts differ outside their images (index annotations or unreferenced blobs)' });
  return { ...base, status: 'differs', differences };
}

async function side(bytes: Uint8Array, name: string, lib: NormalizeOptions): Promise<Side> {
  const r = await normalizeBuffer(bytes, { ...lib, name });
  return { normalized: r.output, ...(r.format ? { format: r.format } : {}), changes: r.changes, notices: r.notices, status: r.status, ...(r.reason ? { reason: r.reason } : {}) };
}

const UNFIXABLE_NOTICE = /not fixable|cannot be normalized|left untouched/i;

export async function diffPair(a: Uint8Array, b: Uint8Array, path: string, name: string, lib: NormalizeOptions): Promise<PairReport> {
  if (equal(a, b)) return { path, status: 'identical', normalizedAway: [], causes: [], differences: [] };
  const options = resolveOptions(lib);
  const [sa, sb] = [await side(a, name, lib), await side(b, name, lib)];
  const format = sa.format ?? sb.format;
  const kinds = [...new Set([...sa.changes, ...sb.changes].map((c) => c.kind))].sort();
  const causes = [...kinds.map((k) => KIND_CAUSE[k] ?? k), ...(await rawCauses(a, b, name, options))];
  const base = { path, ...(format ? { format } : {}), normalizedAway: kinds };
  if (equal(sa.normalized, sb.normalized)) return { ...base, status: 'normalized', causes, differences: [] };
  const differences: Difference[] = [];
  for (const [s, label] of [[sa, 'A'], [sb, 'B']] as const) {
    if (s.status === 'error') differences.push({ path, kind: 'error', detail: `${label} could not be normalized: ${s.reason}` });
    for (const n of s.notices) if (UNFIXABLE_NOTICE.test(n)) differences.push({ path, kind: 'unfixable', detail: `${label}: ${n}` });
  }
  const found = await explain(sa.normalized, sb.normalized, name, path, undefined, options, 0);
  // A difference that the handlers flagged as unfixable (a build path in .rodata) explains
  // the byte differences of that artifact: say so rather than calling it content.
  const unfixable = differences.some((d) => d.kind === 'unfixable');
  differences.push(...found.map((d) => (unfixable && d.kind === 'content' && d.member === undefined ? { ...d, kind: 'unfixable' as const } : d)));
  return { ...base, status: 'differs', causes, differences };
}

/** Compare two files or two directory trees. */
export async function diffPaths(a: string, b: string, lib: NormalizeOptions = {}): Promise<DiffResult> {
  const sa = lstatSync(a);
  const sb = lstatSync(b);
  const pairs: PairReport[] = [];
  if (sa.isFile() && sb.isFile()) {
    pairs.push(await diffPair(readFileSync(a), readFileSync(b), basename(a) === basename(b) ? basename(a) : `${basename(a)} / ${basename(b)}`, basename(a), lib));
  } else if (sa.isDirectory() && sb.isDirectory() && isOciLayoutDir(readdirSync(a)) && isOciLayoutDir(readdirSync(b))) {
    pairs.push(await diffLayouts(a, b, basename(a) === basename(b) ? basename(a) : `${basename(a)} / ${basename(b)}`, lib));
  } else if (sa.isDirectory() && sb.isDirectory()) {
    const rel = (root: string) => new Map(walk([root]).files.flatMap((f) => [f.path, ...f.links].map((p) => [relative(root, p), p] as const)));
    const fa = rel(a);
    const fb = rel(b);
    const names = [...new Set([...fa.keys(), ...fb.keys()])].sort(byteCompare);
    for (const n of names) {
      const pa = fa.get(n);
      const pb = fb.get(n);
      if (!pb) pairs.push({ path: n, status: 'only-in-a', normalizedAway: [], causes: [], differences: [{ path: n, kind: 'only-in-a', detail: 'file only in A' }] });
      else if (!pa) pairs.push({ path: n, status: 'only-in-b', normalizedAway: [], causes: [], differences: [{ path: n, kind: 'only-in-b', detail: 'file only in B' }] });
      else {
        try {
          pairs.push(await diffPair(readFileSync(pa), readFileSync(pb), n, basename(n), lib));
        } catch (e) {
          pairs.push({ path: n, status: 'error', normalizedAway: [], causes: [], differences: [{ path: n, kind: 'error', detail: (e as Error).message }] });
        }
      }
    }
  } else {
    throw new TypeError('diff compares two files or two directories');
  }
  return { identical: pairs.every((p) => p.status === 'identical' || p.status === 'normalized'), pairs };
}

/** Plain-text lines for a diff result. */
export function formatDiff(r: DiffResult, verbose: boolean): string[] {
  const lines: string[] = [];
  for (const p of r.pairs) {
    if (p.status === 'identical') {
      if (verbose) lines.push(`${p.path}: identical`);
      continue;
    }
    if (p.status === 'normalized') {
      lines.push(`${p.path}: identical after normalization${p.format ? ` (${p.format})` : ''}`);
      for (const c of p.causes) lines.push(`  was: ${c}`);
      continue;
    }
    lines.push(`${p.path}: ${p.status === 'differs' ? 'DIFFERS' : p.status}${p.format ? ` (${p.format})` : ''}`);
    for (const d of p.differences) {
      const where = d.member ? `${d.member}: ` : '';
      const off = d.offset !== undefined ? ` (first difference at byte ${fmtOffset(d.offset)})` : '';
      lines.push(`  ${where}${d.kind}: ${d.detail}${off}`);
    }
    for (const c of p.causes) lines.push(`  also normalized: ${c}`);
  }
  const n = r.pairs.length;
  const same = r.pairs.filter((p) => p.status === 'identical').length;
  const norm = r.pairs.filter((p) => p.status === 'normalized').length;
  lines.push(`detnorm diff: ${n} file${n === 1 ? '' : 's'}: ${same} identical, ${norm} identical after normalization, ${n - same - norm} differ`);
  return lines;
}


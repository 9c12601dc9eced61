// `detnorm diff` for pycs: the header (Python version, invalidation mode, the source's mtime,
// size or hash) and the code, and what a difference in the code comes from, tried in turn on
// the canonical marshal form: only FLAG_REF bits (reference counts at compile time), the build
// path in co_filename (two prefixes, mapped to one, make the code equal), the order of set
// constants (Python < 3.11 marshals sets in string-hash order: PYTHONHASHSEED), or real code.
import { readAll } from '../../src/io.js';
import { FormatError, type Comparison, type Context, type FieldDifference, type PathMap, type Source } from '../../src/types.js';
import { pathPrefixes, showTime } from '../compare.js';
import { codeLayout } from './code-layout.js';
import { parseHeader, type PycHeader } from './header.js';
import { normalizePyc } from './index.js';
import { classifyMagic } from './magic.js';
import { isStrType } from './map-path.js';
import { Interner, leafBytes, readMarshal } from './marshal-read.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Every co_filename of a pyc, in the order met. */
function filenames(bytes: Uint8Array, headerSize: number, minor: number): string[] {
  const out: string[] = [];
  readMarshal(bytes, headerSize, {
    layout: codeLayout({ major: 3, minor }),
    interner: new Interner(),
    mapFilename: (n) => {
      if (n.buf && isStrType(n.t)) out.push(utf8.decode(leafBytes(n)));
      return n;
    },
  });
  return out;
}

/** The canonical body (no header) of a pyc under these options. */
async function body(bytes: Uint8Array, ctx: Context, mapPaths: readonly PathMap[], sortSets: boolean): Promise<Uint8Array | undefined> {
  const { pycInvalidation: _p, ...rest } = ctx.options;
  const c: Context = { ...ctx, options: { ...rest, mapPaths }, notice: () => {} };
  delete (c as { sibling?: unknown }).sibling;
  const r = await normalizePyc(bytes, c, { sortSetsBefore311: sortSets });
  if (r.status !== 'normalized') return undefined;
  const m = classifyMagic(bytes);
  return r.output.subarray(m.kind === 'supported' ? m.headerSize : 0);
}

function equal(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && Buffer.from(a).equals(b);
}

function firstDiff(a: Uint8Array, b: Uint8Array): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function headerFields(ha: PycHeader, hb: PycHeader, out: FieldDifference[]): void {
  if (ha.kind !== hb.kind) {
    const mode = (h: PycHeader) => (h.kind === 'timestamp' ? 'timestamp' : h.checkSource ? 'checked-hash' : 'unchecked-hash');
    out.push({ kind: 'header', field: 'invalidation mode', a: mode(ha), b: mode(hb), cause: 'one side was compiled hash-based (py_compile does so when SOURCE_DATE_EPOCH is set, or with --invalidation-mode)' });
    return;
  }
  if (ha.kind === 'timestamp' && hb.kind === 'timestamp') {
    if (ha.mtime !== hb.mtime) out.push({ kind: 'timestamp', field: 'source mtime', a: showTime(ha.mtime), b: showTime(hb.mtime), cause: "a timestamp pyc records its .py file's mtime: the sources were written at different times (checkout or generation)" });
    if (ha.sourceSize !== hb.sourceSize) out.push({ kind: 'content', field: 'source size', a: String(ha.sourceSize), b: String(hb.sourceSize), cause: 'compiled from different sources' });
  } else if (ha.kind === 'hash' && hb.kind === 'hash') {
    if (ha.checkSource !== hb.checkSource) out.push({ kind: 'header', field: 'check_source flag', a: String(ha.checkSource), b: String(hb.checkSource) });
    if (!Buffer.from(ha.hash).equals(hb.hash)) out.push({ kind: 'content', field: 'source hash', a: Buffer.from(ha.hash).toString('hex'), b: Buffer.from(hb.hash).toString('hex'), cause: 'compiled from different sources' });
  }
}

/** Handler.compare for pycs. */
export async function comparePyc(a: Source, b: Source, ctx: Context): Promise<Comparison> {
  const limit = ctx.options.limits.memoryBytes;
  if (a.size > limit || b.size > limit) throw new FormatError('pyc larger than the memory limit');
  const [ba, bb] = [await readAll(a), await readAll(b)];
  const [ma, mb] = [classifyMagic(ba), classifyMagic(bb)];
  if (ma.kind !== 'supported' || mb.kind !== 'supported') throw new FormatError('not a supported pyc on both sides');
  const out: FieldDifference[] = [];
  if (ma.magic !== mb.magic) {
    const v = (m: typeof ma) => `${m.magic} (Python ${m.version.major}.${m.version.minor})`;
    out.push({ kind: 'header', field: 'magic', a: v(ma), b: v(mb), cause: 'compiled by another Python version' });
    return { differences: out };
  }
  headerFields(parseHeader(ba, ma.version), parseHeader(bb, mb.version), out);
  if (equal(ba.subarray(ma.headerSize), bb.subarray(mb.headerSize))) return { differences: out };
  const [ca, cb] = [await body(ba, ctx, [], false), await body(bb, ctx, [], false)];
  if (equal(ca, cb)) {
    out.push({ kind: 'marshal', field: 'marshal FLAG_REF bits', note: 'the same objects, other reference flags', cause: 'FLAG_REF-only differences: marshal sets them from reference counts at compile time' });
    return { differences: out };
  }
  // Build paths: the co_filenames that differ, and the prefixes that would make them one.
  const minor = ma.version.minor;
  const [fa, fb] = [filenames(ba, ma.headerSize, minor), filenames(bb, mb.headerSize, minor)];
  const maps: { a: PathMap[]; b: PathMap[] } = { a: [], b: [] };
  let prefixes: { a: string; b: string } | undefined;
  if (fa.length && fb.length && fa[0] !== fb[0]) {
    prefixes = pathPrefixes(fa[0]!, fb[0]!);
    if (prefixes) {
      maps.a.push({ from: prefixes.a, to: '/detnorm-build' });
      maps.b.push({ from: prefixes.b, to: '/detnorm-build' });
    }
  }
  const [pa, pb] = [await body(ba, ctx, maps.a, false), await body(bb, ctx, maps.b, false)];
  if (fa.length && fb.length && fa[0] !== fb[0]) {
    const p = prefixes;
    const cause = p
      ? `build path: ${p.a} vs ${p.b}${equal(pa, pb) ? ` (with --map-path ${p.a}=/build --map-path ${p.b}=/build the code is equal)` : ''}`
      : undefined;
    out.push({ kind: 'path', field: 'co_filename', a: fa[0]!, b: fb[0]!, ...(cause ? { cause } : {}) });
  }
  if (equal(pa, pb)) return { differences: out };
  if (minor < 11) {
    const [sa, sb] = [await body(ba, ctx, maps.a, true), await body(bb, ctx, maps.b, true)];
    if (equal(sa, sb)) {
      out.push({
        kind: 'order',
        field: 'set constants',
        note: 'the same items in another order',
        cause: `PYTHONHASHSEED: Python 3.${minor} marshals sets and frozensets in string-hash order, which follows the hash seed of the compiling process (3.11+ sorts them; --pyc-sort-sets does too)`,
      });
      return { differences: out };
    }
  }
  const [xa, xb] = [pa ?? ba, pb ?? bb];
  out.push({ kind: 'content', field: 'code', note: 'the code objects differ', offset: ma.headerSize + firstDiff(xa, xb) });
  return { differences: out };
}

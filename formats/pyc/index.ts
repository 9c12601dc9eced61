// pyc handler: CPython 3.6-3.14 compiled modules (PEP 552 header + marshal data).
// Canonicalizes (1) the marshal data: FLAG_REF/ref layout as add-determinism writes it
// (marshal-write.ts), set items of < 3.11 pycs in serialized order as 3.11+ writes them
// (opt-in: options.pycSortSets), trailing bytes after the top object dropped; (2) the header: a
// timestamp pyc's source mtime becomes T (0 without T; --clamp honoured), hash-based pycs keep
// theirs, and --pyc-invalidation turns a timestamp pyc whose source is at hand into a hash-based
// one exactly as py_compile does; (3) co_filename under --map-path. Python 2 pycs and unknown
// magics are left untouched. File-system work is the core's: the handler reads the source through
// ctx.sibling and asks for the source's mtime through the result's `touch`.
import { readAll } from '../../src/io.js';
import { canonicalTime } from '../../src/time.js';
import { FormatError, type Change, type Context, type Handler, type HandlerResult, type Probe, type Sink, type Source, type TouchRequest } from '../../src/types.js';
import { codeLayout } from './code-layout.js';
import { comparePyc } from './compare.js';
import { encodeHeader, hashHeader, parseHeader, withMtime, type PycHeader } from './header.js';
import { classifyMagic, type PyVersion } from './magic.js';
import { mapPath, isStrType, strVariant } from './map-path.js';
import { Interner, leafBytes, readMarshal, type MNode } from './marshal-read.js';
import { writeMarshal } from './marshal-write.js';
import { sourceHash } from './siphash.js';
import { pycDetection } from './detect.js';

export { classifyMagic } from './magic.js';

/**
 * Sorting set/frozenset items of Python < 3.11 pycs (whose order follows PYTHONHASHSEED) by their
 * serialization, as 3.11+ does, is opt-in (`options.pycSortSets`, CLI `--pyc-sort-sets`): the
 * canonical form is add-determinism's, which keeps the order. With it, two builds with
 * different hash seeds converge.
 */
const PYCACHE_NAME = /^([^./]+)\.[^./]+(?:\.opt-\d+)?\.pyc$/;

/**
 * The source file a pyc belongs to, as a path of the same form as `pycPath` ('/'-separated):
 * `D/__pycache__/NAME.TAG[.opt-N].pyc` -> `D/NAME.py` (PEP 3147), legacy `D/NAME.pyc` -> `D/NAME.py`.
 * Undefined when the name follows neither layout.
 */
export function pycSourceFor(pycPath: string): string | undefined {
  const slash = pycPath.lastIndexOf('/');
  const dir = slash < 0 ? '' : pycPath.slice(0, slash);
  const base = pycPath.slice(slash + 1);
  const dirSlash = dir.lastIndexOf('/');
  const dirBase = dir.slice(dirSlash + 1);
  if (dirBase === '__pycache__') {
    const m = PYCACHE_NAME.exec(base);
    if (!m) return undefined;
    const parent = dirSlash < 0 ? '' : dir.slice(0, dirSlash + 1);
    return `${parent}${m[1]}.py`;
  }
  if (!base.endsWith('.pyc') || base.length <= 4 || base.slice(0, -4).includes('.')) return undefined;
  return `${slash < 0 ? '' : pycPath.slice(0, slash + 1)}${base.slice(0, -4)}.py`;
}

/** The source path relative to the pyc's own directory (`../NAME.py` or `NAME.py`). */
export function pycSourceRelative(pycPath: string): string | undefined {
  const src = pycSourceFor(pycPath);
  if (src === undefined) return undefined;
  const name = src.slice(src.lastIndexOf('/') + 1);
  return pycPath.slice(0, pycPath.lastIndexOf('/') + 1 || 0).endsWith('__pycache__/') ? `../${name}` : name;
}

/**
 * For a (normalized) pyc: the mtime, in seconds, that its source file must get so Python keeps
 * trusting the pyc (a timestamp pyc's recorded mtime); undefined for hash-based pycs and for
 * anything that is not a supported pyc. The core sets it on pycSourceFor(path) when that file
 * is in the tree (and its size matches the pyc's recorded source size).
 */
export function sourceMtimeFor(pyc: Uint8Array): { mtime: number; sourceSize: number } | undefined {
  const m = classifyMagic(pyc);
  if (m.kind !== 'supported') return undefined;
  try {
    const h = parseHeader(pyc, m.version);
    return h.kind === 'timestamp' ? { mtime: h.mtime, sourceSize: h.sourceSize } : undefined;
  } catch {
    return undefined;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const enc = new TextEncoder();

/** Build the co_filename mapper for one pyc: memoized per node, counting what it changed. */
function filenameMapper(ctx: Context, interner: Interner, mapped: Map<string, string>): ((n: MNode) => MNode) | undefined {
  const maps = ctx.options.mapPaths;
  if (maps.length === 0) return undefined;
  const memo = new Map<MNode, MNode>();
  return (n) => {
    const hit = memo.get(n);
    if (hit) return hit;
    let out = n;
    if (n.buf && isStrType(n.t)) {
      let text: string | undefined;
      try {
        text = utf8.decode(leafBytes(n));
      } catch {
        text = undefined; // not valid UTF-8 (lone surrogates): leave it
      }
      const to = text === undefined ? undefined : mapPath(text, maps);
      if (to !== undefined && to !== text) {
        const data = enc.encode(to);
        out = interner.leaf(strVariant(n.t, data), data, 0, data.length);
        mapped.set(text!, to);
      }
    }
    memo.set(n, out);
    return out;
  };
}

function bytesDiffer(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) !== 0;
}

/** The last component path of a (possibly nested, "a.whl!/x/y.pyc") artifact path. */
function innerPath(path: string): string {
  const bang = path.lastIndexOf('!/');
  return bang < 0 ? path : path.slice(bang + 2);
}

/** Decide the output header. Returns it and the changes made. */
async function newHeader(h: PycHeader, version: PyVersion, ctx: Context, changes: Change[]): Promise<PycHeader> {
  if (h.kind === 'hash') return h;
  const mode = ctx.options.pycInvalidation;
  if (mode && version.minor < 7) ctx.notice(`Python 3.${version.minor} pycs have no hash-based form (PEP 552 is 3.7+): kept as a timestamp pyc`);
  if (mode && version.minor >= 7 && ctx.sibling) {
    const rel = pycSourceRelative(innerPath(ctx.path));
    const source = rel === undefined ? undefined : await ctx.sibling(rel);
    if (source) {
      if ((source.length >>> 0) === h.sourceSize) {
        changes.push({ kind: 'header', what: `timestamp pyc -> ${mode} pyc` });
        return hashHeader(h.magic, mode === 'checked-hash', sourceHash(h.magic, version, source));
      }
      ctx.notice(`source ${rel} is ${source.length} bytes but the pyc was compiled from ${h.sourceSize}: kept as a timestamp pyc`);
    }
  }
  const t = canonicalTime(ctx.options, h.mtime, 0) >>> 0;
  if (t !== h.mtime) changes.push({ kind: 'timestamp', what: `source mtime ${h.mtime} -> ${t}` });
  return withMtime(h, t);
}

/** Knobs of the canonical form that are not user options (tests turn them to compare with peers). */
export interface PycTuning {
  /** Sort set items of < 3.11 pycs (default: ctx.options.pycSortSets). */
  readonly sortSetsBefore311: boolean;
}

/** The whole pyc step on bytes in memory: the handler's work, without the Source/Sink plumbing. */
export async function normalizePyc(
  bytes: Uint8Array,
  ctx: Context,
  tuning: PycTuning = { sortSetsBefore311: Boolean(ctx.options.pycSortSets) },
): Promise<{ status: 'normalized'; output: Uint8Array; changes: Change[]; touch: TouchRequest[] } | { status: 'untouched'; reason: string }> {
  const m = classifyMagic(bytes);
  if (m.kind === 'python2') return { status: 'untouched', reason: `Python 2 pyc (magic ${m.magic}): not supported, left as is` };
  if (m.kind === 'unsupported') return { status: 'untouched', reason: `${m.why}, left as is` };
  if (m.kind === 'not-pyc') throw new FormatError('not a pyc: bad magic number');
  const { version } = m;
  const header = parseHeader(bytes, version);
  const layout = codeLayout(version);
  const interner = new Interner();
  const mapped = new Map<string, string>();
  const { root, end, longsShortened } = readMarshal(bytes, header.size, {
    layout,
    interner,
    mapFilename: filenameMapper(ctx, interner, mapped),
    sortSets: tuning.sortSetsBefore311 && version.minor < 11,
  });
  const changes: Change[] = [];
  const finalHeader = await newHeader(header, version, ctx, changes);
  const outHeader = encodeHeader(finalHeader);
  // A timestamp pyc is trusted only while its source has the recorded mtime (and size): ask the
  // core to give the source in the tree that mtime.
  const touch: TouchRequest[] = [];
  const rel = finalHeader.kind === 'timestamp' ? pycSourceRelative(innerPath(ctx.path)) : undefined;
  if (rel !== undefined && finalHeader.kind === 'timestamp') touch.push({ relativePath: rel, mtime: finalHeader.mtime, size: finalHeader.sourceSize });
  const { bytes: out } = writeMarshal(root, outHeader, interner.count, layout);
  for (const [from, to] of mapped) changes.push({ kind: 'path', what: `co_filename ${from} -> ${to}` });
  if (longsShortened) changes.push({ kind: 'marshal', what: 'TYPE_LONG small ints written as TYPE_INT', count: longsShortened });
  const body = out.subarray(outHeader.length);
  if (end < bytes.length) changes.push({ kind: 'layout', what: `${bytes.length - end} trailing bytes after the marshal data dropped` });
  if (mapped.size === 0 && bytesDiffer(body, bytes.subarray(header.size, end))) {
    changes.push({ kind: 'marshal', what: 'FLAG_REF and refs set from object equality' });
  }
  return { status: 'normalized', output: out, changes, touch };
}

export const pycHandler: Handler = {
  ...pycDetection,

  async normalize(input: Source, output: Sink, ctx: Context): Promise<HandlerResult> {
    if (input.size > ctx.options.limits.memoryBytes) throw new FormatError(`pyc of ${input.size} bytes is larger than the memory limit`);
    const r = await normalizePyc(await readAll(input), ctx);
    if (r.status === 'untouched') return r;
    await output.write(r.output);
    return { status: 'normalized', changes: r.changes, ...(r.touch.length ? { touch: r.touch } : {}) };
  },

  compare: comparePyc,
};

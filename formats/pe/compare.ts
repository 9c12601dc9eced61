// `detnorm diff` for PE images, COFF objects and short import members (Handler.compare): the
// link stamps (COFF header, debug directory, export, resource and load configuration tables),
// the CodeView GUID and age, the PDB path, the CheckSum, the .gnu_debuglink CRC, the build
// directories in DWARF (and whether mapping the two to one makes the files equal), a build path
// compiled into a loaded section (not fixable after linking), and otherwise the sections whose
// contents differ. Sections are compared with the stamp, GUID and CheckSum fields zeroed, so
// what is left there is content. Each record's cause is only what the bytes support.
import { BufferSink, readAll } from '../../src/io.js';
import { FormatError, type Comparison, type Context, type FieldDifference, type PathMap, type Source } from '../../src/types.js';
import { pathPrefixes } from '../compare.js';
import { Unsupported } from '../dwarf/container.js';
import { rewriteDebug } from '../dwarf/rewrite.js';
import { buildDirs } from '../elf/compare.js';
import { hasRawData, latin1, u16, u32, type Coff, type Section } from './coff.js';
import { coffDwarf } from './dwarf.js';
import { normalizeImage } from './executable.js';
import { findFields, type ImageFields } from './fields.js';
import { OPT_CHECKSUM, parseImage, peOffset, sectionBytes, type PeImage } from './image.js';
import { normalizeObject, parseObject } from './object.js';
import { SHORT_IMPORT_HEADER, isAnonymous } from './short-import.js';
import { xxh64 } from './xxhash64.js';

const MAX_PE_BYTES = 1 << 30;
const PLACEHOLDER = '/detnorm-build';
const LLD_GUID_TAIL = 'LLD PDB.';

const hex32 = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;

function listNames(names: readonly string[]): string {
  return names.length > 6 ? `${names.slice(0, 6).join(', ')}, ... (${names.length} sections)` : names.join(', ');
}

function showValues(vs: readonly (number | string)[]): string {
  const u = [...new Set(vs.map((v) => (typeof v === 'number' ? hex32(v) : v)))];
  if (u.length === 0) return '(none)';
  return u.length > 3 ? `${u.slice(0, 3).join(', ')}, ... (${u.length} values)` : u.join(', ');
}

/** An image's stamps by field name, in file order. */
function stampGroups(f: ImageFields): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const add = (k: string, v: number) => out.set(k, [...(out.get(k) ?? []), v]);
  add('COFF header TimeDateStamp', f.coffStamp.value);
  for (const s of f.debugStamps) add('debug directory TimeDateStamp', s.value);
  for (const s of f.otherStamps) add(s.what.startsWith('resource') ? 'resource directory TimeDateStamp' : `${s.what} TimeDateStamp`, s.value);
  return out;
}

const rsdsOf = (f: ImageFields) => f.codeViews.filter((c) => c.signature === 'RSDS');

/** The image with every field normalization derives from the content (or the clock) zeroed. */
function zeroed(img: PeImage, f: ImageFields): Uint8Array {
  const b = Uint8Array.from(img.bytes);
  for (const s of [f.coffStamp, ...f.debugStamps, ...f.otherStamps]) b.fill(0, s.at, s.at + 4);
  for (const cv of rsdsOf(f)) b.fill(0, cv.at + 4, cv.at + 24);
  b.fill(0, img.optAt + OPT_CHECKSUM, img.optAt + OPT_CHECKSUM + 4);
  return b;
}

/**
 * Whether the COFF stamp is the one lld-link /Brepro (and detnorm) derives from this very file:
 * the low 32 bits of XXH64 of the file with the stamps, the RSDS records and the CheckSum zero.
 */
function stampFromContent(img: PeImage, f: ImageFields): boolean {
  const b = Uint8Array.from(img.bytes);
  for (const s of [f.coffStamp, ...f.debugStamps]) b.fill(0, s.at, s.at + 4);
  for (const cv of rsdsOf(f)) b.fill(0, cv.at, cv.at + 24);
  b.fill(0, img.optAt + OPT_CHECKSUM, img.optAt + OPT_CHECKSUM + 4);
  const d = xxh64(b);
  return new DataView(d.buffer, d.byteOffset, 8).getUint32(0, true) === f.coffStamp.value;
}

/** Absolute paths stored in DWARF (string tables, inline strings), as the path mapper sees them. */
function dwarfPaths(c: Coff, isImage: boolean): Set<string> {
  const out = new Set<string>();
  if (!c.sections.some((s) => s.name.startsWith('.debug_'))) return out;
  try {
    rewriteDebug(coffDwarf(c, isImage), { active: true, map: (s) => (s.startsWith('/') && out.add(s), s) });
  } catch (e) {
    if (!(e instanceof Unsupported || e instanceof FormatError)) throw e;
  }
  return out;
}

async function normalizedWith(bytes: Uint8Array, ctx: Context, mapPaths: readonly PathMap[], isImage: boolean): Promise<Uint8Array> {
  const sink = new BufferSink();
  const c: Context = { ...ctx, options: { ...ctx.options, mapPaths }, notice: () => {} };
  const { sibling: _none, ...quiet } = c;
  const r = isImage ? await normalizeImage(bytes, sink, quiet) : await normalizeObject(bytes, sink, quiet);
  return r.status === 'normalized' ? sink.bytes() : bytes;
}

interface Side {
  readonly sections: readonly Section[];
  /** A section's bytes (with the derived fields zeroed, for an image). */
  data(s: Section): Uint8Array;
}

/** Names of the sections whose contents differ (matched by name; a repeated name by its rank). */
function sectionsThatDiffer(a: Side, b: Side): string[] {
  const keyed = (side: Side) => {
    const m = new Map<string, Section>();
    for (const s of side.sections) {
      let k = s.name;
      for (let i = 2; m.has(k); i++) k = `${s.name}#${i}`;
      m.set(k, s);
    }
    return m;
  };
  const [ka, kb] = [keyed(a), keyed(b)];
  const out: string[] = [];
  for (const k of new Set([...ka.keys(), ...kb.keys()])) {
    const [x, y] = [ka.get(k), kb.get(k)];
    if (x && y && Buffer.from(a.data(x)).equals(b.data(y))) continue;
    out.push(k);
  }
  return out;
}

/** Loaded (non-debug) sections that hold `path`. */
function loadedWith(side: Side, path: string): string[] {
  const needle = Buffer.from(path, 'utf8');
  return side.sections.filter((s) => !isDebugSection(s.name) && Buffer.from(side.data(s)).indexOf(needle) >= 0).map((s) => s.name);
}

const isDebugSection = (n: string) => n.startsWith('.debug_') || n === '.gnu_debuglink';

/** The DWARF build directories and what mapping them does: records, and whether the files become equal. */
async function buildDirRecords(
  ca: Coff,
  cb: Coff,
  isImage: boolean,
  sides: { a: Side; b: Side },
  ctx: Context,
  prefix: string,
): Promise<{ records: FieldDifference[]; equalMapped: boolean }> {
  const dirs = buildDirs(dwarfPaths(ca, isImage), dwarfPaths(cb, isImage));
  if (dirs.length === 0) return { records: [], equalMapped: false };
  const maps = { a: dirs.map((d) => ({ from: d.a, to: PLACEHOLDER })), b: dirs.map((d) => ({ from: d.b, to: PLACEHOLDER })) };
  let equalMapped = false;
  try {
    const [na, nb] = [await normalizedWith(ca.bytes, ctx, maps.a, isImage), await normalizedWith(cb.bytes, ctx, maps.b, isImage)];
    equalMapped = Buffer.from(na).equals(nb);
  } catch (e) {
    if (!(e instanceof FormatError || e instanceof Unsupported || e instanceof RangeError)) throw e;
  }
  const records: FieldDifference[] = [];
  for (const d of dirs) {
    const how = `--map-path ${d.a}=/build --map-path ${d.b}=/build`;
    records.push({
      kind: 'path',
      field: 'build path (DWARF: DW_AT_comp_dir, file names, line tables)',
      a: d.a,
      b: d.b,
      ...(d.count > 1 ? { count: d.count } : {}),
      cause: equalMapped ? `${prefix}: built in two directories: ${how} makes the files equal` : `${prefix}: built in two directories (${how} maps the debug information)`,
    });
    const [la, lb] = [loadedWith(sides.a, d.a), loadedWith(sides.b, d.b)];
    if (la.length || lb.length) {
      records.push({
        kind: 'path',
        field: `build path in ${isImage ? 'loaded ' : ''}section ${listNames([...new Set([...la, ...lb])])}`,
        a: d.a,
        b: d.b,
        cause: isImage
          ? `${prefix}: compiled into the program (__FILE__, assert): not fixable after linking; build with -ffile-prefix-map=OLD=NEW`
          : `${prefix}: compiled into the object's code or data (__FILE__, assert): it will be in the linked program; build with -ffile-prefix-map=OLD=NEW`,
        unfixable: true,
      });
    }
  }
  return { records, equalMapped };
}

/** Handler.compare for PE/COFF. */
export async function comparePe(a: Source, b: Source, ctx: Context): Promise<Comparison> {
  const [ba, bb] = [await readAll(a, MAX_PE_BYTES), await readAll(b, MAX_PE_BYTES)];
  const [ia, ib] = [peOffset(ba, ba.length) !== undefined, peOffset(bb, bb.length) !== undefined];
  if (ia !== ib) throw new FormatError('one side is a PE image, the other is not');
  if (ia) return compareImages(parseImage(ba), parseImage(bb), ctx);
  const [sa, sb] = [isAnonymous(ba), isAnonymous(bb)];
  if (sa !== sb) throw new FormatError('one side is an import member, the other a COFF object');
  if (sa) return compareImports(ba, bb);
  return compareObjects(parseObject(ba), parseObject(bb), ctx);
}

async function compareImages(x: PeImage, y: PeImage, ctx: Context): Promise<Comparison> {
  const out: FieldDifference[] = [];
  const [fx, fy] = [findFields(x), findFields(y)];
  const [zx, zy] = [zeroed(x, fx), zeroed(y, fy)];
  const onlyDerived = Buffer.from(zx).equals(zy);

  const [gx, gy] = [stampGroups(fx), stampGroups(fy)];
  const stampFields = [...new Set([...gx.keys(), ...gy.keys()])].filter((k) => (gx.get(k) ?? []).join() !== (gy.get(k) ?? []).join());
  const guid = (f: ImageFields, img: PeImage) => rsdsOf(f).map((c) => Buffer.from(img.bytes.subarray(c.at + 4, c.at + 24)).toString('hex'));
  const [guidX, guidY] = [guid(fx, x), guid(fy, y)];
  const guidDiffers = guidX.join() !== guidY.join();
  const checksumDiffers = x.checksum !== y.checksum;

  const derived = onlyDerived
    ? `PE: only ${[
        stampFields.length > 0 && 'link time stamps (COFF header, debug directory, export or resource tables)',
        guidDiffers && 'the CodeView GUID',
        checksumDiffers && 'the CheckSum that covers them',
      ]
        .filter(Boolean)
        .join(', ')} differ: the link time (or a GUID from the PDB); normalization derives them from the content`
    : undefined;
  const hashed = !onlyDerived && stampFromContent(x, fx) && stampFromContent(y, fy);
  const becauseRest = 'hashes of the content (lld-link /Brepro, or detnorm): they differ because the rest does';
  for (const k of stampFields) {
    const [va, vb] = [gx.get(k) ?? [], gy.get(k) ?? []];
    out.push({
      kind: 'timestamp',
      field: k,
      a: showValues(va),
      b: showValues(vb),
      ...(Math.max(va.length, vb.length) > 1 ? { count: Math.max(va.length, vb.length) } : {}),
      cause: derived ?? (hashed && !k.startsWith('export') && !k.startsWith('resource') && !k.startsWith('load') ? `PE: the stamps are ${becauseRest}` : 'PE: link time stamps differ (the build time)'),
    });
  }
  if (guidDiffers) {
    const tail = (g: string[]) => g.length > 0 && g.every((h) => Buffer.from(h.slice(16, 32), 'hex').toString('latin1') === LLD_GUID_TAIL);
    out.push({
      kind: 'build-id',
      field: 'CodeView GUID and age',
      a: showValues(guidX),
      b: showValues(guidY),
      cause: derived ?? (hashed && tail(guidX) && tail(guidY) ? `PE: the CodeView GUIDs are ${becauseRest}` : 'PE: the CodeView GUID differs (a new PDB or build id per link)'),
    });
  }
  const pdb = (f: ImageFields) => f.codeViews.map((c) => (c.path ? latin1(c.path) : ''));
  const [px, py] = [pdb(fx), pdb(fy)];
  if (px.join() !== py.join()) {
    const p = px.length === 1 && py.length === 1 ? pathPrefixes(px[0]!.replaceAll('\\', '/'), py[0]!.replaceAll('\\', '/')) : undefined;
    out.push({
      kind: 'path',
      field: 'PDB path (CodeView)',
      a: showValues(px),
      b: showValues(py),
      cause: p ? `PE: the PDB paths differ (built in two directories): --map-path ${p.a}=/build --map-path ${p.b}=/build maps them` : 'PE: the PDB paths differ: give --map-path for the build directories',
    });
  }
  if (checksumDiffers) {
    out.push({ kind: 'metadata', field: 'CheckSum', a: hex32(x.checksum), b: hex32(y.checksum), cause: derived ?? 'PE: the CheckSum covers the whole file: it differs because the rest does' });
  }
  if (onlyDerived) return { differences: out };

  const view = (img: PeImage, z: Uint8Array): Side => ({ sections: img.coff.sections, data: (s) => z.subarray(s.rawPtr, s.rawPtr + sectionBytes(img, s).length) });
  const sides = { a: view(x, zx), b: view(y, zy) };
  const dirs = await buildDirRecords(x.coff, y.coff, true, sides, ctx, 'PE');
  out.push(...dirs.records);
  const differ = sectionsThatDiffer(sides.a, sides.b);
  const debug = differ.filter((n) => n.startsWith('.debug_'));
  const loaded = differ.filter((n) => !isDebugSection(n));
  if (differ.includes('.gnu_debuglink')) {
    out.push({ kind: 'metadata', field: '.gnu_debuglink', cause: 'PE: the separate debug files differ (the link holds the debug file\'s name and CRC)' });
  }
  if (debug.length > 0) {
    out.push({
      kind: 'content',
      field: 'DWARF sections',
      note: listNames(debug),
      ...(debug.length > 1 ? { count: debug.length } : {}),
      cause: `PE: DWARF sections differ (${listNames(debug)}): build paths or string table order; --map-path maps the paths`,
    });
  }
  if (loaded.length > 0) {
    out.push({
      kind: 'content',
      field: 'loaded sections',
      note: listNames(loaded),
      ...(loaded.length > 1 ? { count: loaded.length } : {}),
      cause: `PE: loaded sections differ (${listNames(loaded)}): code or data, not metadata (a build path in .rdata, e.g. from __FILE__, is not fixable after linking)`,
    });
  }
  if (differ.length === 0 && !dirs.equalMapped) out.push({ kind: 'layout', field: 'bytes outside sections', note: 'headers, symbol table, padding or layout' });
  return { differences: out };
}

async function compareObjects(x: Coff, y: Coff, ctx: Context): Promise<Comparison> {
  const out: FieldDifference[] = [];
  if (x.header.timeDateStamp !== y.header.timeDateStamp) {
    out.push({
      kind: 'timestamp',
      field: 'COFF header TimeDateStamp',
      a: hex32(x.header.timeDateStamp),
      b: hex32(y.header.timeDateStamp),
      cause: 'COFF: the object TimeDateStamps differ (the compile time; clang for MSVC targets writes it)',
    });
  }
  const view = (c: Coff): Side => ({ sections: c.sections, data: (s) => (hasRawData(s) ? c.bytes.subarray(s.rawPtr, s.rawPtr + s.rawSize) : new Uint8Array(0)) });
  const sides = { a: view(x), b: view(y) };
  const dirs = await buildDirRecords(x, y, false, sides, ctx, 'COFF');
  out.push(...dirs.records);
  const differ = sectionsThatDiffer(sides.a, sides.b);
  const debug = differ.filter((n) => n.startsWith('.debug_'));
  const other = differ.filter((n) => !n.startsWith('.debug_'));
  if (debug.length > 0) {
    out.push({
      kind: 'content',
      field: 'DWARF sections',
      note: listNames(debug),
      ...(debug.length > 1 ? { count: debug.length } : {}),
      cause: `COFF: DWARF sections differ (${listNames(debug)}): build paths or string table order; --map-path maps the paths`,
    });
  }
  if (other.length > 0) {
    out.push({
      kind: 'content',
      field: 'sections',
      note: listNames(other),
      ...(other.length > 1 ? { count: other.length } : {}),
      cause: `COFF: sections differ (${listNames(other)}): code or data, not metadata`,
    });
  }
  return { differences: out };
}

/** Two short import members: the stamp, then the rest of the header and the names. */
function compareImports(x: Uint8Array, y: Uint8Array): Comparison {
  if (x.length < SHORT_IMPORT_HEADER || y.length < SHORT_IMPORT_HEADER) throw new FormatError('truncated import header');
  if (u16(x, 4) !== 0 || u16(y, 4) !== 0) throw new FormatError('anonymous COFF object that is not an import member: not compared field by field');
  const out: FieldDifference[] = [];
  const [sx, sy] = [u32(x, 8), u32(y, 8)];
  if (sx !== sy) out.push({ kind: 'timestamp', field: 'import member TimeDateStamp', a: hex32(sx), b: hex32(sy), cause: 'COFF: the import members\' TimeDateStamps differ (link.exe\'s lib writes the time; llvm-lib and llvm-dlltool write 0)' });
  const rest = (b: Uint8Array) => Buffer.concat([b.subarray(0, 8), b.subarray(12)]);
  if (!rest(x).equals(rest(y))) {
    const n = (b: Uint8Array) => latin1(b.subarray(SHORT_IMPORT_HEADER)).split('\0').slice(0, 2).join(' in ');
    out.push({ kind: 'content', field: 'import (machine, type, hint, names)', a: n(x), b: n(y) });
  }
  return { differences: out };
}

// PE images (.exe, .dll, .sys, .efi; PE32 and PE32+): times, debug identity, DWARF and the
// checksum. What changes, in this order:
// 1. DWARF in .debug_* sections (mingw -g): build paths mapped, string tables canonical, the
//    debug sections laid out again when their size changes (layout.ts); .gnu_debuglink's CRC
//    follows a debug file normalized in the same tree.
// 2. The PDB path of each CodeView RSDS record is mapped with --map-path (in place: a longer
//    path that does not fit the record is left, with a notice).
// 3. Stamps of the export directory, every resource directory table and the load configuration
//    become 0 (what lld-link /Brepro writes), or T with --pe-timestamp T.
// 4. The COFF header's and every debug directory entry's TimeDateStamp, and each RSDS GUID and
//    age, are derived from the content as lld-link /Brepro does: with those fields (and the
//    RSDS signature and CheckSum) zero, XXH64 of the whole file; the stamp is its low 32 bits,
//    the GUID its 8 bytes then "LLD PDB.", the age 1. With --pe-timestamp T the stamps are T.
// 5. CheckSum is recomputed when it was not zero.
// Nothing else of a loaded section changes, and loaded sections never move. Left untouched:
// Authenticode-signed images (a certificate table), .NET assemblies (a CLR header: their debug
// identity belongs to the portable PDB, and compilers have /deterministic for them).
import { mapPath } from '../../src/map-path.js';
import { canonicalTime } from '../../src/time.js';
import type { Change, Context, HandlerResult, Sink } from '../../src/types.js';
import { Unsupported } from '../dwarf/container.js';
import { rewriteDebug } from '../dwarf/rewrite.js';
import { makePathMapper } from '../dwarf/strings.js';
import type { Image } from '../elf/image.js';
import { PeChecksum } from './checksum.js';
import { SYMBOL_SIZE, SYM_CLASS_STATIC, latin1, le32, putU32, readSymbols, u32 } from './coff.js';
import { updateDebugLink } from '../debuglink.js';
import { pePairCheck } from './debuglink.js';
import { coffDwarf } from './dwarf.js';
import { findFields, type ImageFields } from './fields.js';
import { DIR_CLR, DIR_SECURITY, OPT_CHECKSUM, parseImage, sectionBytes, type PeImage } from './image.js';
import { layoutImage } from './layout.js';
import { Xxh64 } from './xxhash64.js';

const LLD_GUID_TAIL = Uint8Array.from(Buffer.from('LLD PDB.', 'latin1'));

/** Feed an image, gaps as zeros, to a consumer (a hash or the checksum). */
async function scan(image: Image, update: (chunk: Uint8Array) => void): Promise<void> {
  let length = 0;
  await image.writeTo({
    async write(chunk) {
      update(chunk);
      length += chunk.length;
    },
    get length() {
      return length;
    },
  });
}

/** --map-path on a PDB path: '/' separated as given, or a Windows path with '\' separators. */
function mapPdbPath(path: string, ctx: Context): string | undefined {
  const maps = ctx.options.mapPaths;
  const direct = mapPath(path, maps);
  if (direct !== undefined || !path.includes('\\')) return direct;
  const slashed = mapPath(path.replaceAll('\\', '/'), maps.map((m) => ({ from: m.from.replaceAll('\\', '/'), to: m.to.replaceAll('\\', '/') })));
  return slashed?.replaceAll('/', '\\');
}

function loadedPathNotices(img: PeImage, fields: ImageFields, froms: readonly string[], ctx: Context): void {
  const needles = froms.filter((f) => f.length > 0).map((f) => Buffer.from(f, 'utf8'));
  if (needles.length === 0) return;
  for (const s of img.coff.sections) {
    if (s.name.startsWith('.debug_') || s.name === '.gnu_debuglink' || s.rawPtr === 0) continue;
    const data = Buffer.from(sectionBytes(img, s));
    // The CodeView records' PDB paths are mapped: mask them.
    for (const cv of fields.codeViews) {
      const a = Math.max(cv.at, s.rawPtr);
      const b = Math.min(cv.at + cv.size, s.rawPtr + data.length);
      if (a < b) data.fill(0, a - s.rawPtr, b - s.rawPtr);
    }
    if (needles.some((n) => data.indexOf(n) >= 0)) ctx.notice(`build path in loaded section ${s.name}: not fixable after linking; use -ffile-prefix-map`);
  }
}

export async function normalizeImage(bytes: Uint8Array, output: Sink, ctx: Context): Promise<HandlerResult> {
  const img = parseImage(bytes);
  if (img.dirs[DIR_SECURITY]!.size > 0) return { status: 'untouched', reason: 'Authenticode-signed image (certificate table present): normalizing would break the signature' };
  if (img.dirs[DIR_CLR]!.size > 0) return { status: 'untouched', reason: '.NET assembly (CLR header): not handled (use the compiler\'s /deterministic)' };
  const fields = findFields(img);
  const { options } = ctx;
  const changes: Change[] = [];
  loadedPathNotices(img, fields, options.mapPaths.map((m) => m.from), ctx);
  for (const b of fields.bound) ctx.notice(`bound imports kept: ${b}`);
  if (fields.reproData) ctx.notice('REPRO debug entry with a hash (MSVC /Brepro): its data kept');

  // 1. DWARF and .gnu_debuglink.
  const contents = new Map<number, Uint8Array>();
  let symtab: Uint8Array | undefined;
  const hasDwarf = img.coff.sections.some((s) => s.name.startsWith('.debug_'));
  if (hasDwarf) {
    let rw;
    try {
      const c = coffDwarf(img.coff, true);
      rw = rewriteDebug(c, makePathMapper(options.mapPaths));
      for (const [idx, data] of rw.data) {
        if (idx === c.symtabIndex) symtab = data;
        else if (idx <= img.coff.sections.length) contents.set(idx, data);
      }
    } catch (e) {
      if (e instanceof Unsupported) return { status: 'untouched', reason: e.message };
      throw e;
    }
    if (rw.mapped > 0) changes.push({ kind: 'path', what: 'build paths mapped in DWARF strings and line tables', count: rw.mapped });
    if (rw.reordered.length > 0) changes.push({ kind: 'order', what: `string tables rebuilt in canonical order: ${rw.reordered.join(', ')}`, count: rw.reordered.length });
  }
  // GNU ld copies each object's section symbols into the image's symbol table: for debug
  // sections they give where that object's part of the section started and its length, in
  // tables the rewrite has rebuilt. They take one canonical value: 0, and the section's size.
  if (hasDwarf && img.coff.header.symtabOffset !== 0) {
    const base = img.coff.header.symtabOffset;
    const table = symtab ?? Uint8Array.from(bytes.subarray(base, base + img.coff.header.nsymbols * SYMBOL_SIZE));
    let n = 0;
    for (const sym of readSymbols(img.coff)) {
      const s = img.coff.sections[sym.section - 1];
      if (!s || !s.name.startsWith('.debug_')) continue;
      const size = (contents.get(s.number) ?? sectionBytes(img, s)).length;
      const at = sym.at - base;
      const isDef = sym.storageClass === SYM_CLASS_STATIC && sym.naux > 0;
      if (u32(table, at + 8) !== 0 || (isDef && u32(table, at + SYMBOL_SIZE) !== size)) {
        putU32(table, at + 8, 0);
        if (isDef) putU32(table, at + SYMBOL_SIZE, size);
        n++;
      }
    }
    if (n > 0) {
      symtab = table;
      changes.push({ kind: 'layout', what: 'symbols of debug sections set to the section start and size', count: n });
    }
  }
  const link = img.coff.sections.find((s) => s.name === '.gnu_debuglink' && s.rawPtr !== 0);
  if (link) {
    const data = await updateDebugLink(sectionBytes(img, link), true, ctx, changes, pePairCheck(img));
    if (data) contents.set(link.number, data);
  }
  let lay;
  try {
    lay = layoutImage(img, contents, symtab);
  } catch (e) {
    if (e instanceof Unsupported) return { status: 'untouched', reason: e.message };
    throw e;
  }
  const out = lay.image;
  if (lay.moved) changes.push({ kind: 'layout', what: 'debug sections laid out again (sizes, addresses, SizeOfImage, symbol table pointer)' });

  // 2. PDB paths.
  for (const cv of fields.codeViews) {
    if (cv.signature !== 'RSDS') {
      ctx.notice(`CodeView record ${cv.signature}: kept`);
      continue;
    }
    const path = latin1(cv.path!);
    const mapped = mapPdbPath(Buffer.from(path, 'latin1').toString('utf8'), ctx);
    if (mapped === undefined) continue;
    const next = Buffer.from(mapped, 'utf8');
    if (next.length + 1 > cv.pathRoom!) {
      ctx.notice(`PDB path ${path} not mapped: ${mapped} does not fit the CodeView record (${cv.pathRoom! - 1} bytes)`);
      continue;
    }
    const field = new Uint8Array(cv.pathRoom!);
    field.set(next);
    out.patch(cv.at + 24, field);
    changes.push({ kind: 'path', what: `PDB path ${path} -> ${mapped}` });
  }

  // 3. Stamps that take 0 (or T).
  const tMode = options.peTimestamp === 'T';
  const tally = new Map<string, number>();
  for (const f of fields.otherStamps) {
    const v = tMode ? canonicalTime(options, f.value, 0) : 0;
    if (v === f.value) continue;
    out.patch(f.at, le32(v));
    const key = f.what.startsWith('resource') ? 'resource directory tables' : f.what;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  for (const [what, count] of tally) changes.push({ kind: 'timestamp', what: `${what} TimeDateStamp -> ${tMode ? (options.timestamp ?? 0) : 0}`, count });

  // 4. The stamps and GUIDs derived from the content.
  const zero4 = new Uint8Array(4);
  out.patch(fields.coffStamp.at, zero4);
  for (const f of fields.debugStamps) out.patch(f.at, zero4);
  const rsds = fields.codeViews.filter((c) => c.signature === 'RSDS');
  for (const cv of rsds) out.patch(cv.at, new Uint8Array(24));
  const csAt = img.optAt + OPT_CHECKSUM;
  out.patch(csAt, zero4);
  const hash = new Xxh64();
  await scan(out, (c) => hash.update(c));
  const digest = hash.digest();
  const derived = new DataView(digest.buffer).getUint32(0, true);
  const stamp = tMode ? canonicalTime(options, fields.coffStamp.value, 0) : derived;
  out.patch(fields.coffStamp.at, le32(stamp));
  if (stamp !== fields.coffStamp.value) changes.push({ kind: 'timestamp', what: `COFF header TimeDateStamp -> 0x${stamp.toString(16)}${tMode ? '' : ' (hash of the content, as lld-link /Brepro)'}` });
  let debugChanged = 0;
  for (const f of fields.debugStamps) {
    const v = tMode ? canonicalTime(options, f.value, 0) : derived;
    out.patch(f.at, le32(v));
    if (v !== f.value) debugChanged++;
  }
  if (debugChanged > 0) changes.push({ kind: 'timestamp', what: 'debug directory TimeDateStamp set like the COFF header\'s', count: debugChanged });
  for (const cv of rsds) {
    const rec = new Uint8Array(24);
    rec.set(Buffer.from('RSDS', 'latin1'));
    rec.set(digest, 4);
    rec.set(LLD_GUID_TAIL, 12);
    rec.set(le32(1), 20);
    out.patch(cv.at, rec);
    if (Buffer.from(rec).equals(bytes.subarray(cv.at, cv.at + 24))) continue;
    changes.push({ kind: 'build-id', what: 'CodeView GUID and age derived from the content (as lld-link /Brepro)' });
    if (cv.path!.length > 0) ctx.notice(`CodeView record names ${latin1(cv.path!)}: that PDB keeps its old GUID and no longer matches this image`);
  }

  // 5. CheckSum.
  if (img.checksum !== 0) {
    const sum = new PeChecksum(csAt);
    await scan(out, (c) => sum.update(c));
    const v = sum.digest();
    out.patch(csAt, le32(v));
    if (v !== img.checksum) changes.push({ kind: 'metadata', what: 'CheckSum recomputed' });
  } else out.patch(csAt, le32(0));
  if (changes.length === 0 && !out.equals(bytes)) changes.push({ kind: 'padding', what: 'stale bytes outside sections zeroed' });
  await out.writeTo(output);
  return { status: 'normalized', changes };
}

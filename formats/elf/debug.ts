// DWARF build-path rewriting (the post-hoc equivalent of -ffile-prefix-map): collect every
// reference to .debug_str / .debug_line_str and every inline string that may hold a path,
// map paths, rebuild both string tables in canonical order (always: gcc's order depends on
// the path text), patch every reference (through relocations in .o files) and rebuild the
// .debug_line headers whose inline strings change length, fixing unit lengths, stmt_list
// offsets and, in .o files, relocation offsets and addends.
import { FormatError } from '../../src/types.js';
import { Bin, SHT_NOBITS, SHT_REL, SHT_RELA, SHT_SYMTAB, sectionData, type Elf, type Section } from './elf.js';
import { AbbrevCache } from './dwarf/abbrev.js';
import { putUint } from './dwarf/cursor.js';
import { Refs, walkInfo } from './dwarf/info.js';
import { walkLine, type LineUnit } from './dwarf/line.js';
import { walkMacro } from './dwarf/macro.js';
import { walkNames, walkStrOffsets } from './dwarf/offsets.js';
import { buildStringTable, readCString, type PathMapper } from './dwarf/strings.js';
import { readRelocs, readSymbols, type Reloc } from './relocs.js';

/** Debug sections we know; any other .debug_* section may point into the string tables. */
const KNOWN = new Set([
  '.debug_abbrev', '.debug_addr', '.debug_aranges', '.debug_frame', '.debug_info', '.debug_line', '.debug_line_str',
  '.debug_loc', '.debug_loclists', '.debug_macinfo', '.debug_macro', '.debug_names', '.debug_pubnames', '.debug_pubtypes',
  '.debug_gnu_pubnames', '.debug_gnu_pubtypes', '.debug_ranges', '.debug_rnglists', '.debug_str', '.debug_str_offsets',
  '.debug_types', '.debug_sup',
]);

/** Input we deliberately do not rewrite: the handler leaves the file untouched with this reason. */
export class Unsupported extends Error {}

export interface DebugRewrite {
  /** New uncompressed contents of the sections that changed. */
  readonly data: Map<number, Uint8Array>;
  /** Distinct strings whose path was mapped. */
  readonly mapped: number;
  /** String tables whose layout changed. */
  readonly reordered: string[];
}

interface Splice {
  readonly off: number;
  readonly len: number;
  readonly data: Uint8Array;
}

/** A monotonic map from old to new offsets of a section with splices. */
class OffsetMap {
  private readonly ends: number[] = [];
  private readonly deltas: number[] = [];
  constructor(splices: readonly Splice[]) {
    let d = 0;
    for (const s of splices) {
      d += s.data.length - s.len;
      this.ends.push(s.off + s.len);
      this.deltas.push(d);
    }
  }
  map(x: number): number {
    // Sum of deltas of splices ending at or before x.
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ends[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return x + (lo === 0 ? 0 : this.deltas[lo - 1]!);
  }
}

interface Ref {
  readonly target: Section;
  readonly value: number;
  readonly reloc?: Reloc;
}

export function rewriteDebug(elf: Elf, mapper: PathMapper, maxBytes: number, maxRatio: number): DebugRewrite {
  const { le, is64 } = elf.header;
  const secs = elf.sections;
  for (const s of secs) {
    if (s.name.startsWith('.zdebug')) throw new Unsupported(`legacy .zdebug compression (${s.name}) is not supported`);
    if (s.name.startsWith('.debug_') && !KNOWN.has(s.name)) throw new Unsupported(`unknown debug section ${s.name}`);
  }
  const named = (n: string) => secs.filter((s) => s.name === n && s.type !== SHT_NOBITS);
  const strTabs = named('.debug_str');
  const lineStrTabs = named('.debug_line_str');
  const infos = named('.debug_info');
  const typeSecs = named('.debug_types');
  const lineSecs = named('.debug_line');
  const macroSecs = named('.debug_macro');
  const strOffSecs = named('.debug_str_offsets');
  const nameSecs = named('.debug_names');
  const abbrevSecs = named('.debug_abbrev');
  const empty: DebugRewrite = { data: new Map(), mapped: 0, reordered: [] };
  if (strTabs.length + lineStrTabs.length + lineSecs.length + infos.length === 0) return empty;

  const orig = new Map<number, Uint8Array>();
  const load = (s: Section): Uint8Array => {
    let d = orig.get(s.index);
    if (!d) orig.set(s.index, (d = sectionData(elf, s, maxBytes, maxRatio)));
    return d;
  };
  const work = new Map<number, Uint8Array>();
  const mutable = (s: Section): Uint8Array => {
    let d = work.get(s.index);
    if (!d) work.set(s.index, (d = Uint8Array.from(load(s))));
    return d;
  };
  const splices = new Map<number, Splice[]>();

  // Relocations that apply to debug sections (.o files, or --emit-relocs).
  const hasRelocs = secs.some((s) => (s.type === SHT_REL || s.type === SHT_RELA) && secs[s.info]?.name.startsWith('.debug_'));
  const debugIdx = new Set(secs.filter((s) => s.name.startsWith('.debug_')).map((s) => s.index));
  const relocs = hasRelocs ? readRelocs(elf, debugIdx) : new Map<number, Map<number, Reloc>>();

  const readField = (s: Section, off: number, size: number): number => new Bin(load(s), le).uN(off, size);
  const resolve = (s: Section, off: number, size: number, targets: Section[], what: string): Ref => {
    const r = relocs.get(s.index)?.get(off);
    if (r) {
      if (r.multi) throw new Unsupported(`${what} at ${s.name}+${off} has several relocations`);
      const target = secs[r.symSection];
      if (!target || !targets.includes(target)) throw new FormatError(`${what} at ${s.name}+${off} is relocated against section ${r.symSection}, not ${targets[0]?.name ?? 'its table'}`);
      return { target, value: r.symValue + (r.rela ? r.addend : readField(s, off, size)), reloc: r };
    }
    if (targets.length !== 1) {
      throw new FormatError(targets.length === 0 ? `${what} in ${s.name} but no such section` : `${what} in ${s.name} without a relocation, and several target sections`);
    }
    return { target: targets[0]!, value: readField(s, off, size) };
  };
  const setRef = (s: Section, off: number, size: number, ref: Ref, value: number): void => {
    if (value === ref.value) return;
    const r = ref.reloc;
    if (r && r.rela) {
      const rel = mutable(r.relSec);
      const bin = new Bin(rel, le);
      const at = r.entryOffset + (is64 ? 16 : 8);
      if (is64) bin.setI64(at, value - r.symValue);
      else bin.view.setInt32(at, value - r.symValue, le);
      return;
    }
    const v = value - (r ? r.symValue : 0);
    if (v < 0 || (size < 8 && v >= 2 ** (8 * size))) throw new FormatError(`offset ${value} does not fit a ${size}-byte field in ${s.name}`);
    putUint(mutable(s), off, size, v, le);
  };

  // 1. Walk everything that refers to strings or to .debug_line.
  const refsOf = new Map<number, Refs>();
  const refs = (s: Section): Refs => {
    let r = refsOf.get(s.index);
    if (!r) refsOf.set(s.index, (r = new Refs()));
    return r;
  };
  const abbrevCaches = new Map<number, AbbrevCache>();
  for (const [list, isTypes] of [[infos, false], [typeSecs, true]] as const) {
    for (const s of list) {
      walkInfo(load(s), le, isTypes, s.name, (field, size) => {
        const r = resolve(s, field, size, abbrevSecs, 'debug_abbrev_offset');
        let cache = abbrevCaches.get(r.target.index);
        if (!cache) abbrevCaches.set(r.target.index, (cache = new AbbrevCache(load(r.target), le)));
        return cache.get(r.value);
      }, refs(s));
    }
  }
  const lineUnits = new Map<number, LineUnit[]>();
  for (const s of lineSecs) lineUnits.set(s.index, walkLine(load(s), le, s.name, refs(s)));
  for (const s of macroSecs) walkMacro(load(s), le, s.name, refs(s));
  for (const s of strOffSecs) walkStrOffsets(load(s), le, s.name, refs(s));
  for (const s of nameSecs) walkNames(load(s), le, s.name, refs(s));

  // 2. String tables.
  let mapped = 0;
  const reordered: string[] = [];
  const parsedKeys = new Set<string>();
  const tableKinds: Array<[Section[], 'str' | 'lineStr']> = [
    [strTabs, 'str'],
    [lineStrTabs, 'lineStr'],
  ];
  for (const [tables, kind] of tableKinds) {
    if (tables.length === 0) {
      for (const [idx, r] of refsOf) if ((kind === 'str' ? r.str : r.lineStr).length > 0) throw new FormatError(`${secs[idx]!.name} refers to a missing ${kind === 'str' ? '.debug_str' : '.debug_line_str'}`);
      continue;
    }
    // Every reference: [section, field offset, size, resolved ref].
    const all: Array<[Section, number, number, Ref]> = [];
    for (const [idx, r] of refsOf) {
      const s = secs[idx]!;
      const offs = kind === 'str' ? r.str : r.lineStr;
      const sizes = kind === 'str' ? r.strSize : r.lineStrSize;
      for (let i = 0; i < offs.length; i++) {
        const ref = resolve(s, offs[i]!, sizes[i]!, tables, kind === 'str' ? 'DW_FORM_strp' : 'DW_FORM_line_strp');
        all.push([s, offs[i]!, sizes[i]!, ref]);
        if (hasRelocs) parsedKeys.add(`${idx}:${offs[i]}`);
      }
    }
    // In a .o file, any other relocation against a string table is a reference too.
    for (const [target, byOff] of relocs) {
      for (const r of byOff.values()) {
        const t = secs[r.symSection];
        if (!t || !tables.includes(t) || parsedKeys.has(`${target}:${r.offset}`)) continue;
        if (r.multi) throw new Unsupported(`relocation against ${t.name} at ${secs[target]!.name}+${r.offset} is not a plain offset`);
        const size = relocFieldSize(elf, r);
        all.push([secs[target]!, r.offset, size, { target: t, value: r.symValue + (r.rela ? r.addend : readField(secs[target]!, r.offset, size)), reloc: r }]);
      }
    }
    for (const t of tables) {
      const old = load(t);
      const mine = all.filter((a) => a[3].target === t);
      const textAt = new Map<number, string>();
      for (const a of mine) {
        const v = a[3].value;
        if (!textAt.has(v)) textAt.set(v, readCString(old, v, t.name));
      }
      const texts = new Map<string, string>();
      let mappedHere = 0;
      for (const s of new Set(textAt.values())) {
        const m = mapper.map(s);
        if (m !== s) mappedHere++;
        texts.set(s, m);
      }
      mapped += mappedHere;
      const table = buildStringTable(texts.values());
      for (const [s, off, size, ref] of mine) setRef(s, off, size, ref, table.offsetOf.get(texts.get(textAt.get(ref.value)!)!)!);
      if (!bytesEq(table.bytes, old)) {
        work.set(t.index, table.bytes);
        reordered.push(t.name);
      }
    }
  }

  // 3. Inline strings.
  for (const [idx, r] of refsOf) {
    const s = secs[idx]!;
    const d = load(s);
    for (let i = 0; i < r.inline.length; i += 2) {
      const start = r.inline[i]!;
      const end = r.inline[i + 1]!;
      const text = Buffer.from(d.buffer, d.byteOffset + start, end - start).toString('latin1');
      const m = mapper.map(text);
      if (m === text) continue;
      mapped++;
      const bytes = Buffer.from(m, 'latin1');
      if (bytes.length === end - start) {
        mutable(s).set(bytes, start);
        continue;
      }
      if (s.name !== '.debug_line') throw new Unsupported(`inline build path in ${s.name} at ${start} (DW_FORM_string) changes length; rewriting it is not supported`);
      let list = splices.get(idx);
      if (!list) splices.set(idx, (list = []));
      list.push({ off: start, len: end - start, data: bytes });
    }
  }

  // 4. Line units whose header changed length: unit_length and header_length.
  const maps = new Map<number, OffsetMap>();
  for (const [idx, list] of splices) {
    const s = secs[idx]!;
    list.sort((a, b) => a.off - b.off);
    for (const u of lineUnits.get(idx) ?? []) {
      let delta = 0;
      for (const sp of list) if (sp.off >= u.start && sp.off < u.end) delta += sp.data.length - sp.len;
      if (delta === 0) continue;
      const bin = new Bin(load(s), le);
      const w = mutable(s);
      putUint(w, u.lengthAt, u.offsetSize, bin.uN(u.lengthAt, u.offsetSize) + delta, le);
      putUint(w, u.headerLengthAt, u.offsetSize, bin.uN(u.headerLengthAt, u.offsetSize) + delta, le);
      if (u.offsetSize === 4 && bin.uN(u.lengthAt, 4) + delta >= 0xfffffff0) throw new Unsupported(`line unit at ${u.start} would outgrow 32-bit DWARF`);
    }
    maps.set(idx, new OffsetMap(list));
  }

  // 5. References into resized sections.
  if (maps.size > 0) {
    const patched = new Set<string>();
    for (const [idx, r] of refsOf) {
      const s = secs[idx]!;
      for (let i = 0; i < r.line.length; i++) {
        const ref = resolve(s, r.line[i]!, r.lineSize[i]!, lineSecs, 'offset into .debug_line');
        const m = maps.get(ref.target.index);
        if (m) setRef(s, r.line[i]!, r.lineSize[i]!, ref, m.map(ref.value));
        patched.add(`${idx}:${r.line[i]}`);
      }
    }
    for (const [target, byOff] of relocs) {
      for (const r of byOff.values()) {
        const m = maps.get(r.symSection);
        if (m && !patched.has(`${target}:${r.offset}`)) {
          if (r.multi) throw new Unsupported(`relocation against ${secs[r.symSection]!.name} at ${secs[target]!.name}+${r.offset} is not a plain offset`);
          const size = relocFieldSize(elf, r);
          const ref: Ref = { target: secs[r.symSection]!, value: r.symValue + (r.rela ? r.addend : readField(secs[target]!, r.offset, size)), reloc: r };
          setRef(secs[target]!, r.offset, size, ref, m.map(ref.value));
        }
        // Relocations applying inside a resized section move with it.
        const own = maps.get(target);
        if (own) {
          const at = own.map(r.offset);
          if (at !== r.offset) {
            const rel = mutable(r.relSec);
            putUint(rel, r.entryOffset, is64 ? 8 : 4, at, le);
          }
        }
      }
    }
    // Named symbols defined inside a resized section.
    for (const st of secs.filter((x) => x.type === SHT_SYMTAB)) {
      for (const sym of readSymbols(elf, st)) {
        const m = maps.get(sym.shndx);
        if (!m || sym.type === 3 /* STT_SECTION */) continue;
        const v = m.map(sym.value);
        if (v !== sym.value) putUint(mutable(st), sym.valueAt, is64 ? 8 : 4, v, le);
      }
    }
  }

  // 6. Apply splices and keep what changed.
  const data = new Map<number, Uint8Array>();
  for (const [idx, w] of work) {
    const list = splices.get(idx);
    const out = list ? applySplices(w, list) : w;
    if (!bytesEq(out, load(secs[idx]!))) data.set(idx, out);
  }
  for (const [idx, list] of splices) {
    if (work.has(idx)) continue;
    data.set(idx, applySplices(load(secs[idx]!), list));
  }
  return { data, mapped, reordered };
}

function relocFieldSize(elf: Elf, r: Reloc): number {
  // Debug sections use plain absolute data relocations; their width follows the class, except
  // the 32-bit ones of 64-bit targets (R_X86_64_32 = 10, R_AARCH64_ABS32 = 258, ...).
  const { machine, is64 } = elf.header;
  if (!is64) return 4;
  if (machine === 62) return r.type === 1 ? 8 : r.type === 10 || r.type === 11 ? 4 : fail(r);
  if (machine === 183) return r.type === 257 ? 8 : r.type === 258 ? 4 : fail(r);
  if (machine === 243) return r.type === 2 ? 8 : r.type === 1 ? 4 : fail(r);
  if (machine === 21) return r.type === 38 ? 8 : r.type === 1 ? 4 : fail(r);
  if (machine === 22) return r.type === 22 ? 8 : r.type === 4 ? 4 : fail(r);
  return fail(r);
}

function fail(r: Reloc): never {
  throw new Unsupported(`relocation type ${r.type} against a debug section is not understood`);
}

function applySplices(src: Uint8Array, list: Splice[]): Uint8Array {
  let size = src.length;
  for (const s of list) size += s.data.length - s.len;
  const out = new Uint8Array(size);
  let from = 0;
  let at = 0;
  for (const s of list) {
    if (s.off < from) throw new FormatError('overlapping string rewrites');
    out.set(src.subarray(from, s.off), at);
    at += s.off - from;
    out.set(s.data, at);
    at += s.data.length;
    from = s.off + s.len;
  }
  out.set(src.subarray(from), at);
  return out;
}

export function bytesEq(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}

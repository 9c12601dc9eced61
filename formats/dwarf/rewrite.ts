// DWARF build-path rewriting (the post-hoc equivalent of -ffile-prefix-map): collect every
// reference to .debug_str / .debug_line_str and every inline string that may hold a path,
// map paths, rebuild both string tables in canonical order (always: gcc's order depends on
// the path text), patch every reference (through relocations in .o files) and rebuild the
// .debug_line headers whose inline strings change length, fixing unit lengths, stmt_list
// offsets and, in .o files, relocation offsets and addends. Knows no container: ELF and
// PE/COFF describe their sections, relocations and symbols through DwarfContainer.
import { FormatError } from '../../src/types.js';
import { AbbrevCache } from './abbrev.js';
import { Unsupported, type DwarfContainer, type DwarfSection as Section, type Reloc } from './container.js';
import { Cursor, encodeUleb, putUint } from './cursor.js';
import { DieRefs, walkAranges, walkInfoDieRefs, walkLocList, walkPubnames } from './dieref.js';
import { Refs, walkInfo, type UnitInfo } from './info.js';
import { walkLine, type LineUnit } from './line.js';
import { walkMacro } from './macro.js';
import { walkNames, walkStrOffsets } from './offsets.js';
import { canonicalTable, type PathMapper } from './strings.js';

/** Debug sections we know; any other .debug_* section may point into the string tables. */
const KNOWN = new Set([
  '.debug_abbrev', '.debug_addr', '.debug_aranges', '.debug_frame', '.debug_info', '.debug_line', '.debug_line_str',
  '.debug_loc', '.debug_loclists', '.debug_macinfo', '.debug_macro', '.debug_names', '.debug_pubnames', '.debug_pubtypes',
  '.debug_gnu_pubnames', '.debug_gnu_pubtypes', '.debug_ranges', '.debug_rnglists', '.debug_str', '.debug_str_offsets',
  '.debug_types', '.debug_sup',
]);

export { Unsupported } from './container.js';

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

export function rewriteDebug(c: DwarfContainer, mapper: PathMapper): DebugRewrite {
  const { le } = c;
  const secs = c.sections;
  for (const s of secs) {
    if (s.name.startsWith('.zdebug')) throw new Unsupported(`legacy .zdebug compression (${s.name}) is not supported`);
    if (s.name.startsWith('.debug_') && !KNOWN.has(s.name)) throw new Unsupported(`unknown debug section ${s.name}`);
  }
  const named = (n: string) => secs.filter((s) => s.name === n && c.hasData(s));
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
    if (!d) orig.set(s.index, (d = c.data(s)));
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
  const debugIdx = new Set(secs.filter((s) => s.name.startsWith('.debug_')).map((s) => s.index));
  const relocs = c.relocs(debugIdx);

  const readField = (s: Section, off: number, size: number): number => uN(load(s), off, size, le);
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
  const views = new Map<number, DataView>();
  const setRef = (s: Section, off: number, size: number, ref: Ref, value: number): void => {
    if (value === ref.value) return;
    const r = ref.reloc;
    if (r && r.rela) {
      let view = views.get(r.relSec.index);
      if (!view) views.set(r.relSec.index, (view = dataView(mutable(r.relSec))));
      const at = r.entryOffset + c.relocEntry.addendAt!;
      const addend = value - r.symValue;
      if (c.relocEntry.addendSize === 8) {
        const lo = addend >>> 0;
        const hi = Math.floor(addend / 0x100000000);
        view.setUint32(le ? at : at + 4, lo, le);
        view.setInt32(le ? at + 4 : at, hi, le);
      } else view.setInt32(at, addend, le);
      return;
    }
    const v = value - (r ? r.symValue : 0);
    if (v < 0 || (size < 8 && v >= 2 ** (8 * size))) throw new FormatError(`offset ${value} does not fit a ${size}-byte field in ${s.name}`);
    putUint(mutable(s), off, size, v, le);
  };

  const writeField = (s: Section, off: number, size: number, value: number): void => {
    let v = views.get(s.index);
    if (!v) views.set(s.index, (v = dataView(mutable(s))));
    if (size === 4) {
      if (value > 0xffffffff) throw new FormatError(`offset ${value} does not fit a 4-byte field in ${s.name}`);
      v.setUint32(off, value, le);
    } else if (size === 8) writeU64(v, off, value, le);
    else putUint(mutable(s), off, size, value, le);
  };

  // 1. Walk everything that refers to strings or to .debug_line.
  const refsOf = new Map<number, Refs>();
  const refs = (s: Section): Refs => {
    let r = refsOf.get(s.index);
    if (!r) refsOf.set(s.index, (r = new Refs()));
    return r;
  };
  const abbrevCaches = new Map<number, AbbrevCache>();
  const abbrevFor = (s: Section) => (field: number, size: number) => {
    const r = resolve(s, field, size, abbrevSecs, 'debug_abbrev_offset');
    let cache = abbrevCaches.get(r.target.index);
    if (!cache) abbrevCaches.set(r.target.index, (cache = new AbbrevCache(load(r.target), le)));
    return cache.get(r.value);
  };
  const infoUnits = new Map<number, UnitInfo[]>();
  for (const [list, isTypes] of [[infos, false], [typeSecs, true]] as const) {
    for (const s of list) infoUnits.set(s.index, walkInfo(load(s), le, isTypes, s.name, abbrevFor(s), refs(s)));
  }
  const lineUnits = new Map<number, LineUnit[]>();
  for (const s of lineSecs) lineUnits.set(s.index, walkLine(load(s), le, s.name, refs(s)));
  for (const s of macroSecs) walkMacro(load(s), le, s.name, refs(s));
  for (const s of strOffSecs) walkStrOffsets(load(s), le, s.name, refs(s));
  for (const s of nameSecs) walkNames(load(s), le, s.name, refs(s));

  const walked = new Set([...infos, ...typeSecs, ...lineSecs, ...macroSecs, ...strOffSecs, ...nameSecs].map((s) => s.index));

  // 2. String tables. References are kept as parallel arrays (a large binary has millions).
  let mapped = 0;
  const reordered: string[] = [];
  const relocKey = (sec: number, off: number) => sec * 0x100000000 + off;
  const parsedKeys = new Set<number>();
  const tableKinds: Array<[Section[], 'str' | 'lineStr']> = [
    [strTabs, 'str'],
    [lineStrTabs, 'lineStr'],
  ];
  for (const [tables, kind] of tableKinds) {
    if (tables.length === 0) {
      for (const [idx, r] of refsOf) if ((kind === 'str' ? r.str : r.lineStr).length > 0) throw new FormatError(`${secs[idx]!.name} refers to a missing ${kind === 'str' ? '.debug_str' : '.debug_line_str'}`);
      continue;
    }
    const what = kind === 'str' ? 'DW_FORM_strp' : 'DW_FORM_line_strp';
    // Parsed references first, in typed arrays sized up front; relocation-only ones after.
    let parsed = 0;
    for (const r of refsOf.values()) parsed += (kind === 'str' ? r.str : r.lineStr).length;
    let cap = parsed + 16;
    let rSec = new Int32Array(cap);
    let rOff = new Float64Array(cap);
    let rSize = new Uint8Array(cap);
    let rVal = new Float64Array(cap);
    let rTab = new Int32Array(cap);
    let count = 0;
    const rRel = new Map<number, Ref>(); // by reference index, only for relocated fields
    const push = (sec: number, off: number, size: number, value: number, tab: number) => {
      if (count === cap) {
        cap *= 2;
        const grow = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
          const b = make(cap);
          b.set(a);
          return b;
        };
        rSec = grow(rSec, (n) => new Int32Array(n));
        rOff = grow(rOff, (n) => new Float64Array(n));
        rSize = grow(rSize, (n) => new Uint8Array(n));
        rVal = grow(rVal, (n) => new Float64Array(n));
        rTab = grow(rTab, (n) => new Int32Array(n));
      }
      rSec[count] = sec;
      rOff[count] = off;
      rSize[count] = size;
      rVal[count] = value;
      rTab[count] = tab;
      count++;
    };
    for (const [idx, r] of refsOf) {
      const s = secs[idx]!;
      const offs = kind === 'str' ? r.str : r.lineStr;
      const sizes = kind === 'str' ? r.strSize : r.lineStrSize;
      if (offs.length === 0) continue;
      const here = relocs.get(idx);
      const view = dataView(load(s));
      for (let i = 0; i < offs.length; i++) {
        const off = offs.a[i]!;
        const size = sizes.a[i]!;
        if (here?.has(off)) {
          const ref = resolve(s, off, size, tables, what);
          rRel.set(count, ref);
          push(idx, off, size, ref.value, ref.target.index);
          parsedKeys.add(relocKey(idx, off));
        } else {
          if (tables.length !== 1) resolve(s, off, size, tables, what); // throws the right error
          push(idx, off, size, size === 4 ? view.getUint32(off, le) : readU64(view, off, le), tables[0]!.index);
        }
      }
    }
    // In a .o file, any other relocation against a string table is a reference too.
    for (const [target, byOff] of relocs) {
      for (const r of byOff.values()) {
        const t = secs[r.symSection];
        if (!t || !tables.includes(t) || parsedKeys.has(relocKey(target, r.offset))) continue;
        if (r.multi) throw new Unsupported(`relocation against ${t.name} at ${secs[target]!.name}+${r.offset} is not a plain offset`);
        // A section the walks above parsed has all its string references found by them: a REL
        // relocation elsewhere in it would have its field (bytes the walk reads as structure)
        // rewritten, and the next run would parse something else.
        if (!r.rela && walked.has(target)) {
          throw new FormatError(`relocation against ${t.name} at ${secs[target]!.name}+${r.offset} is not at a string reference the DWARF reader found there`);
        }
        const size = c.relocFieldSize(r);
        const ref: Ref = { target: t, value: r.symValue + (r.rela ? r.addend : readField(secs[target]!, r.offset, size)), reloc: r };
        rRel.set(count, ref);
        push(target, r.offset, size, ref.value, t.index);
      }
    }
    for (const t of tables) {
      const old = load(t);
      const all = rVal.subarray(0, count);
      const mine = tables.length === 1 ? all : all.filter((_, k) => rTab[k] === t.index);
      const table = canonicalTable(old, mine, mapper, t.name);
      mapped += table.mapped;
      for (let k = 0; k < count; k++) {
        if (rTab[k] !== t.index) continue;
        const v = table.newOffset(rVal[k]!);
        if (v === rVal[k]) continue;
        const ref = rRel.get(k);
        const s = secs[rSec[k]!]!;
        if (ref) setRef(s, rOff[k]!, rSize[k]!, ref, v);
        else writeField(s, rOff[k]!, rSize[k]!, v);
      }
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
      const start = r.inline.a[i]!;
      const end = r.inline.a[i + 1]!;
      const text = Buffer.from(d.buffer, d.byteOffset + start, end - start).toString('latin1');
      const m = mapper.map(text);
      if (m === text) continue;
      mapped++;
      const bytes = Buffer.from(m, 'latin1');
      if (bytes.length === end - start) {
        mutable(s).set(bytes, start);
        continue;
      }
      if (s.name !== '.debug_line' && s.name !== '.debug_info') throw new Unsupported(`inline build path in ${s.name} at ${start} (DW_FORM_string) changes length; rewriting it is not supported`);
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
      const d = load(s);
      const w = mutable(s);
      putUint(w, u.lengthAt, u.offsetSize, uN(d, u.lengthAt, u.offsetSize, le) + delta, le);
      putUint(w, u.headerLengthAt, u.offsetSize, uN(d, u.headerLengthAt, u.offsetSize, le) + delta, le);
      if (u.offsetSize === 4 && uN(d, u.lengthAt, 4, le) + delta >= 0xfffffff0) throw new Unsupported(`line unit at ${u.start} would outgrow 32-bit DWARF`);
    }
    for (const u of infoUnits.get(idx) ?? []) {
      let delta = 0;
      for (const sp of list) if (sp.off >= u.start && sp.off < u.end) delta += sp.data.length - sp.len;
      if (delta === 0) continue;
      const osz = u.lengthFieldSize === 12 ? 8 : 4;
      const at = u.start + (osz === 8 ? 4 : 0);
      const old = uN(load(s), at, osz, le);
      if (osz === 4 && old + delta >= 0xfffffff0) throw new Unsupported(`unit at ${u.start} would outgrow 32-bit DWARF`);
      putUint(mutable(s), at, osz, old + delta, le);
    }
    maps.set(idx, new OffsetMap(list));
  }

  // 4b. A .debug_info that changed length: every reference to its DIEs follows.
  for (const s of infos) {
    const m = maps.get(s.index);
    if (m) relocateDies(s, m);
  }

  function relocateDies(info: Section, m: OffsetMap): void {
    if (infos.length !== 1) throw new Unsupported('several .debug_info sections and one changes length');
    for (const n of ['.debug_types', '.debug_names', '.gdb_index', '.debug_loclists']) {
      if (secs.some((x) => x.name === n)) throw new Unsupported(`${n} with a .debug_info unit that changes length`);
    }
    const die = new DieRefs();
    walkInfoDieRefs(load(info), le, info.name, abbrevFor(info), die);
    const patch = (s: Section, refsHere: DieRefs) => {
      if (refsHere.unsupported) throw new Unsupported(`${refsHere.unsupported}; a .debug_info unit changes length`);
      for (const r of refsHere.refs) {
        if (relocs.get(s.index)?.has(r.at)) continue; // relocated: handled with the other relocations
        const d = load(s);
        let v: number;
        if (r.uleb) v = new Cursor(d, le, r.at, d.length, s.name).uleb();
        else v = uN(d, r.at, r.size, le);
        const nv = r.cu === undefined ? m.map(v) : m.map(r.cu + v) - m.map(r.cu);
        if (nv === v) continue;
        if (r.uleb) mutable(s).set(encodeUlebPadded(nv, r.size, s.name), r.at);
        else putUint(mutable(s), r.at, r.size, nv, le);
      }
    };
    patch(info, die);
    const loc = secs.find((x) => x.name === '.debug_loc');
    if (die.locLists.length > 0) {
      if (!loc) throw new FormatError('location list offsets without .debug_loc');
      const locRefs = new DieRefs();
      const seen = new Set<number>();
      for (const l of die.locLists) {
        const offset = resolve(info, l.field, l.fieldSize, [loc], 'location list offset').value;
        if (seen.has(offset)) continue;
        seen.add(offset);
        walkLocList(load(loc), le, { ...l, offset }, locRefs);
      }
      patch(loc, locRefs);
    }
    for (const a of named('.debug_aranges')) {
      const r = new DieRefs();
      walkAranges(load(a), le, r);
      patch(a, r);
    }
    for (const [n, gnu] of [['.debug_pubnames', false], ['.debug_pubtypes', false], ['.debug_gnu_pubnames', true], ['.debug_gnu_pubtypes', true]] as const) {
      for (const p of named(n)) {
        const r = new DieRefs();
        const lengths: Array<{ at: number; size: number; cuField: number }> = [];
        walkPubnames(load(p), le, gnu, n, r, lengths);
        const pd = load(p);
        for (const l of lengths) {
          const cu = uN(pd, l.cuField, l.size, le);
          const len = uN(pd, l.at, l.size, le);
          const nl = m.map(cu + len) - m.map(cu);
          if (nl !== len) putUint(mutable(p), l.at, l.size, nl, le);
        }
        patch(p, r);
      }
    }
  }

  // 5. References into resized sections.
  if (maps.size > 0) {
    const patched = new Set<string>();
    for (const [idx, r] of refsOf) {
      const s = secs[idx]!;
      for (let i = 0; i < r.line.length; i++) {
        const ref = resolve(s, r.line.a[i]!, r.lineSize.a[i]!, lineSecs, 'offset into .debug_line');
        const m = maps.get(ref.target.index);
        if (m) setRef(s, r.line.a[i]!, r.lineSize.a[i]!, ref, m.map(ref.value));
        patched.add(`${idx}:${r.line.a[i]}`);
      }
    }
    for (const [target, byOff] of relocs) {
      for (const r of byOff.values()) {
        const m = maps.get(r.symSection);
        if (m && !patched.has(`${target}:${r.offset}`)) {
          if (r.multi) throw new Unsupported(`relocation against ${secs[r.symSection]!.name} at ${secs[target]!.name}+${r.offset} is not a plain offset`);
          const size = c.relocFieldSize(r);
          const ref: Ref = { target: secs[r.symSection]!, value: r.symValue + (r.rela ? r.addend : readField(secs[target]!, r.offset, size)), reloc: r };
          setRef(secs[target]!, r.offset, size, ref, m.map(ref.value));
        }
        // Relocations applying inside a resized section move with it.
        const own = maps.get(target);
        if (own) {
          const at = own.map(r.offset);
          if (at !== r.offset) {
            const rel = mutable(r.relSec);
            putUint(rel, r.entryOffset, c.relocEntry.offsetSize, at, le);
          }
        }
      }
    }
    // Named symbols defined inside a resized section.
    for (const sym of c.symbols()) {
      const m = maps.get(sym.shndx);
      if (!m || sym.isSection) continue;
      const v = m.map(sym.value);
      if (v !== sym.value) putUint(mutable(secs[sym.table]!), sym.valueAt, sym.valueSize, v, le);
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

/** A ULEB128 of exactly `size` bytes (padded with continuation bytes, as assemblers do). */
function encodeUlebPadded(v: number, size: number, what: string): Uint8Array {
  const min = encodeUleb(v);
  if (min.length > size) throw new Unsupported(`a DIE reference in ${what} no longer fits its ULEB128 field`);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    out[i] = (i < min.length ? min[i]! & 0x7f : 0) | (i < size - 1 ? 0x80 : 0);
  }
  return out;
}

function dataView(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** An unsigned field of 1, 2, 4 or 8 bytes (a 64-bit one must be a safe integer). */
function uN(d: Uint8Array, off: number, size: number, le: boolean): number {
  const v = dataView(d);
  switch (size) {
    case 1:
      return v.getUint8(off);
    case 2:
      return v.getUint16(off, le);
    case 4:
      return v.getUint32(off, le);
    case 8:
      return readU64(v, off, le);
    default:
      throw new FormatError(`bad field size ${size}`);
  }
}

function readU64(v: DataView, off: number, le: boolean): number {
  const a = v.getUint32(off, le);
  const b = v.getUint32(off + 4, le);
  const [lo, hi] = le ? [a, b] : [b, a];
  if (hi >= 0x200000) throw new FormatError(`64-bit offset at ${off} too large`);
  return hi * 0x100000000 + lo;
}

function writeU64(v: DataView, off: number, value: number, le: boolean): void {
  const lo = value % 0x100000000;
  const hi = Math.floor(value / 0x100000000);
  v.setUint32(le ? off : off + 4, lo, le);
  v.setUint32(le ? off + 4 : off, hi, le);
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

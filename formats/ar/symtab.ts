// ar symbol tables (the linker's index of which member defines which symbol), rewritten when
// member offsets move. Each entry points at a member's header offset from the file start.
// - GNU/SysV `/` (binutils bfd/archive.c): u32 BE count, count u32 BE offsets, count
//   NUL-terminated names, padding. `/SYM64/`: the same with u64 count and offsets.
// - BSD `__.SYMDEF` (ranlib(5)): u32 byte size of the ranlib array, {u32 strx, u32 offset}
//   entries, u32 string table size, strings, padding; `__.SYMDEF_64` uses u64 throughout.
//   Byte order is the target's: little-endian from llvm-ar and macOS, detected here.
// Rewriting keeps the table's size. Entries are grouped by member in member order (as ar
// writes them), so a new member order moves entries by a stable sort on the new offset.
import { FormatError } from '../../src/types.js';

/** Maps an old member header offset to its new one (undefined: not a member header). */
export type OffsetMap = (oldOffset: number) => number | undefined;

function badOffset(table: string, off: number): never {
  throw new FormatError(`${table} symbol table entry points to offset ${off}, which is not a member header`);
}

function stableOrder(keys: number[]): number[] {
  return keys.map((k, i) => [k, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
}

function readWord(dv: DataView, at: number, wide: boolean, little: boolean): number {
  if (!wide) return dv.getUint32(at, little);
  const v = dv.getBigUint64(at, little);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(`symbol table value ${v} is too large`);
  return Number(v);
}

function writeWord(dv: DataView, at: number, v: number, wide: boolean, little: boolean): void {
  if (wide) dv.setBigUint64(at, BigInt(v), little);
  else {
    if (v > 0xffffffff) throw new FormatError(`member offset ${v} does not fit a 32-bit symbol table (needs /SYM64/)`);
    dv.setUint32(at, v, little);
  }
}

/** Rewrite a GNU `/` (wide = false) or `/SYM64/` (wide = true) table. Returns new bytes. */
export function rewriteGnuSymtab(data: Uint8Array, wide: boolean, map: OffsetMap, reorder: boolean): Uint8Array {
  const w = wide ? 8 : 4;
  const table = wide ? '/SYM64/' : 'GNU /';
  if (data.length < w) throw new FormatError(`${table} symbol table is truncated (${data.length} bytes)`);
  const dv = new DataView(data.buffer, data.byteOffset, data.length);
  const count = readWord(dv, 0, wide, false);
  if (count > (data.length - w) / w) throw new FormatError(`${table} symbol table declares ${count} symbols in ${data.length} bytes`);
  const strStart = w + count * w;
  if (!reorder) {
    // Member order kept (the default): every name stays where it is, only the offsets change.
    // The same bytes as the general path below without an array entry and a copy per symbol
    // (issue 20: this was the ar handler's largest cost on a canonical .a under --check).
    let p = strStart;
    for (let i = 0; i < count; i++) {
      const end = data.indexOf(0, p);
      if (end < 0) throw new FormatError(`${table} symbol table has ${count} symbols but only ${i} names`);
      p = end + 1;
    }
    // Every offset mapped before any is written: a bad offset is reported before an offset too
    // large to write, as below.
    const mapped = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const o = readWord(dv, w + i * w, wide, false);
      mapped[i] = map(o) ?? badOffset(table, o);
    }
    const out = Uint8Array.from(data);
    const odv = new DataView(out.buffer);
    for (let i = 0; i < count; i++) writeWord(odv, w + i * w, mapped[i]!, wide, false);
    return out;
  }
  const offsets: number[] = [];
  const names: Array<[number, number]> = [];
  let p = strStart;
  for (let i = 0; i < count; i++) {
    offsets.push(readWord(dv, w + i * w, wide, false));
    const end = data.indexOf(0, p);
    if (end < 0) throw new FormatError(`${table} symbol table has ${count} symbols but only ${i} names`);
    names.push([p, end + 1]);
    p = end + 1;
  }
  const newOffsets = offsets.map((o) => map(o) ?? badOffset(table, o));
  const order = reorder ? stableOrder(newOffsets) : offsets.map((_, i) => i);
  const out = Uint8Array.from(data);
  const odv = new DataView(out.buffer);
  let q = strStart;
  order.forEach((src, i) => {
    writeWord(odv, w + i * w, newOffsets[src]!, wide, false);
    const [s, e] = names[src]!;
    out.set(data.subarray(s, e), q);
    q += e - s;
  });
  return out;
}

/** Rewrite a BSD `__.SYMDEF` table (wide for `__.SYMDEF_64`); `sorted`: `... SORTED` (by name). */
export function rewriteBsdSymtab(data: Uint8Array, wide: boolean, sorted: boolean, map: OffsetMap, reorder: boolean): Uint8Array {
  const w = wide ? 8 : 4;
  const table = wide ? '__.SYMDEF_64' : '__.SYMDEF';
  if (data.length < 2 * w) throw new FormatError(`${table} symbol table is truncated (${data.length} bytes)`);
  const dv = new DataView(data.buffer, data.byteOffset, data.length);
  const fits = (little: boolean): boolean => {
    const bytes = readWord(dv, 0, wide, little);
    if (bytes % (2 * w) !== 0 || bytes > data.length - 2 * w) return false;
    const strSize = readWord(dv, w + bytes, wide, little);
    return strSize <= data.length - 2 * w - bytes;
  };
  const little = fits(true) ? true : fits(false) ? false : undefined;
  if (little === undefined) throw new FormatError(`${table} symbol table sizes do not fit its ${data.length} bytes`);
  const bytes = readWord(dv, 0, wide, little);
  const n = bytes / (2 * w);
  const strStart = w + bytes + w;
  const strSize = readWord(dv, w + bytes, wide, little);
  const strx: number[] = [];
  const newOffsets: number[] = [];
  for (let i = 0; i < n; i++) {
    strx.push(readWord(dv, w + i * 2 * w, wide, little));
    const off = readWord(dv, w + i * 2 * w + w, wide, little);
    newOffsets.push(map(off) ?? badOffset(table, off));
  }
  const order = reorder && !sorted ? stableOrder(newOffsets) : strx.map((_, i) => i);
  const out = Uint8Array.from(data);
  const odv = new DataView(out.buffer);
  // Strings laid out one per entry, in entry order (as llvm-ar writes them) are rebuilt in the
  // new entry order, so the table is what ar would write for that order; otherwise kept.
  const strings = data.subarray(strStart, strStart + strSize);
  const spans: Array<[number, number]> = [];
  let sequential = true;
  let expect = 0;
  for (let i = 0; i < n && sequential; i++) {
    const end = strings.indexOf(0, strx[i]!);
    if (strx[i] !== expect || end < 0) sequential = false;
    else {
      spans.push([strx[i]!, end + 1]);
      expect = end + 1;
    }
  }
  const rebuild = sequential && order.some((src, i) => src !== i);
  let q = 0;
  order.forEach((src, i) => {
    let x = strx[src]!;
    if (rebuild) {
      const [s, e] = spans[src]!;
      out.set(strings.subarray(s, e), strStart + q);
      x = q;
      q += e - s;
    }
    writeWord(odv, w + i * 2 * w, x, wide, little);
    writeWord(odv, w + i * 2 * w + w, newOffsets[src]!, wide, little);
  });
  return out;
}

/**
 * Rewrite Microsoft's second linker member (PE/COFF spec, "Second Linker Member"): u32 LE member
 * count m, m u32 LE member header offsets in ascending order, u32 LE symbol count n, n u16 LE
 * 1-based indices into the offsets, then the n names in lexical order. Offsets follow the
 * members; with a new member order they are sorted again and the indices renumbered.
 */
export function rewriteMsSymtab(data: Uint8Array, map: OffsetMap): Uint8Array {
  const table = 'second linker member';
  if (data.length < 4) throw new FormatError(`${table} is truncated (${data.length} bytes)`);
  const dv = new DataView(data.buffer, data.byteOffset, data.length);
  const m = dv.getUint32(0, true);
  if (m > (data.length - 8) / 4) throw new FormatError(`${table} declares ${m} members in ${data.length} bytes`);
  const n = dv.getUint32(4 + 4 * m, true);
  if (n > (data.length - 8 - 4 * m) / 2) throw new FormatError(`${table} declares ${n} symbols in ${data.length} bytes`);
  const newOffsets: number[] = [];
  for (let i = 0; i < m; i++) {
    const off = dv.getUint32(4 + 4 * i, true);
    newOffsets.push(map(off) ?? badOffset(table, off));
  }
  const order = stableOrder(newOffsets);
  const rank = new Array<number>(m);
  order.forEach((src, i) => (rank[src] = i));
  const out = Uint8Array.from(data);
  const odv = new DataView(out.buffer);
  order.forEach((src, i) => writeWord(odv, 4 + 4 * i, newOffsets[src]!, false, true));
  const idx = 8 + 4 * m;
  for (let k = 0; k < n; k++) {
    const v = dv.getUint16(idx + 2 * k, true);
    if (v < 1 || v > m) throw new FormatError(`${table}: symbol ${k} names member ${v} of ${m}`);
    odv.setUint16(idx + 2 * k, rank[v - 1]! + 1, true);
  }
  return out;
}

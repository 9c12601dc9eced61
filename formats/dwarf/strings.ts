// Canonical string tables for .debug_str and .debug_line_str. gcc lays these out in an
// order that depends on the text (a hash), so two builds mapped to one path still differ; the
// linker then merges tails. We rebuild each table from the set of strings that something
// references: strings that are a suffix of another share its tail (as ld's SHF_MERGE does),
// the rest are written in the bytewise order of their reversed text (the order in which the
// shared tails are found). The result depends on the set of strings alone.
import { mapPath } from '../../src/map-path.js';
import { FormatError } from '../../src/types.js';

/** Strings are handled as latin1 JS strings: one char per byte, so `<` is bytewise order. */
export function readCString(table: Uint8Array, offset: number, what: string): string {
  if (offset >= table.length) throw new FormatError(`${what}: string offset ${offset} is outside the table (${table.length} bytes)`);
  const nul = table.indexOf(0, offset);
  if (nul < 0) throw new FormatError(`${what}: string at ${offset} is not terminated`);
  const b = Buffer.isBuffer(table) ? table : Buffer.from(table.buffer, table.byteOffset, table.length);
  return b.toString('latin1', offset, nul);
}

export interface StringTable {
  readonly bytes: Uint8Array;
  readonly offsetOf: Map<string, number>;
}

/** The canonical table of a set of strings (a convenience over canonicalTable for tests and small tables). */
export function buildStringTable(strings: Iterable<string>): StringTable {
  const list = [...strings];
  const table = Buffer.from(list.map((x) => x + '\0').join(''), 'latin1');
  const refs: number[] = [];
  let at = 0;
  for (const x of list) {
    refs.push(at);
    at += x.length + 1;
  }
  const t = canonicalTable(table, refs, { active: false, map: (x) => x }, 'strings');
  const offsetOf = new Map<string, number>();
  list.forEach((x, i) => offsetOf.set(x, t.newOffset(refs[i]!)));
  return { bytes: t.bytes, offsetOf };
}

export interface CanonicalTable {
  readonly bytes: Uint8Array;
  /** New offset of the (mapped) string an old offset referred to; only for referenced offsets. */
  newOffset(old: number): number;
  /** Referenced strings whose text the path map changed. */
  readonly mapped: number;
}

/**
 * Rebuild a string table from the strings that `refs` (old offsets, in any order, repeats
 * allowed) point at, after mapping paths. Works on bytes: a large binary's .debug_str holds
 * millions of strings. Sorting is an MSD radix sort on the reversed bytes (suffix order),
 * which brings equal strings and each string and its longer carriers together.
 */
export function canonicalTable(table: Uint8Array, refs: ArrayLike<number>, mapper: PathMapper, what: string): CanonicalTable {
  const size = table.length;
  // Referenced offsets as a bitset with a rank index: id = number of referenced offsets below.
  const words = (size >>> 5) + 1;
  const bits = new Uint32Array(words);
  for (let i = 0; i < refs.length; i++) {
    const v = refs[i]!;
    if (!(v >= 0 && v < size)) throw new FormatError(`${what}: string offset ${v} is outside the table (${size} bytes)`);
    bits[v >>> 5]! |= 1 << (v & 31);
  }
  const cum = new Uint32Array(words);
  let n = 0;
  for (let w = 0; w < words; w++) {
    cum[w] = n;
    n += popcount(bits[w]!);
  }
  const rank = (v: number) => cum[v >>> 5]! + popcount(bits[v >>> 5]! & ((1 << (v & 31)) - 1));
  // Start and end of each referenced string, in ascending offset order.
  const start = new Uint32Array(n);
  const end = new Uint32Array(n);
  const tv = new DataView(table.buffer, table.byteOffset, table.byteLength);
  let id = 0;
  let nul = -1;
  for (let w = 0; w < words; w++) {
    let word = bits[w]!;
    while (word !== 0) {
      const bit = 31 - Math.clz32(word & -word);
      word &= word - 1;
      const off = w * 32 + bit;
      if (off > nul) {
        nul = off;
        // A word at a time while no byte of it is zero, then byte by byte.
        while (nul + 4 <= size && ((tv.getUint32(nul, true) - 0x01010101) & ~tv.getUint32(nul, true) & 0x80808080) === 0) nul += 4;
        while (nul < size && table[nul] !== 0) nul++;
        if (nul >= size) throw new FormatError(`${what}: string at ${off} is not terminated`);
      }
      start[id] = off;
      end[id] = nul;
      id++;
    }
  }
  // Mapped strings get their new text in a side buffer (few of them: the table is not copied).
  let extra: Uint8Array = new Uint8Array(0);
  const inExtra = new Uint8Array(n);
  let mapped = 0;
  if (mapper.active) {
    const texts: Buffer[] = [];
    let extraSize = 0;
    for (let i = 0; i < n; i++) {
      if (table[start[i]!] !== 0x2f && !mapper.firstBytes?.has(table[start[i]!]!)) continue;
      const text = latin1(table, start[i]!, end[i]!);
      const m = mapper.map(text);
      if (m === text) continue;
      mapped++;
      const b = Buffer.from(m + '\0', 'latin1');
      inExtra[i] = 1;
      start[i] = extraSize;
      end[i] = extraSize + b.length - 1;
      texts.push(b);
      extraSize += b.length;
    }
    if (mapped > 0) extra = Buffer.concat(texts, extraSize);
  }
  const bufOf = (i: number): Uint8Array => (inExtra[i] ? extra : table);
  // The strings of the table sorted by radix, the mapped ones by comparison, then merged.
  const plain = new Uint32Array(n - mapped);
  const moved: number[] = [];
  for (let i = 0, k = 0; i < n; i++) {
    if (inExtra[i]) moved.push(i);
    else plain[k++] = i;
  }
  sortReversed(table, start, end, plain);
  const cmp = (i: number, j: number) => compareReversed(bufOf(i), start[i]!, end[i]!, bufOf(j), start[j]!, end[j]!) || i - j;
  moved.sort(cmp);
  const order = new Uint32Array(n);
  for (let p = 0, q = 0, k = 0; k < n; k++) {
    order[k] = q >= moved.length || (p < plain.length && cmp(plain[p]!, moved[q]!) < 0) ? plain[p++]! : moved[q++]!;
  }
  // Walking the suffix order backwards, a string that is a suffix of its successor (equal
  // strings included) shares the successor's carrier.
  const host = new Int32Array(n);
  for (let k = n - 1; k >= 0; k--) {
    const i = order[k]!;
    if (k + 1 < n) {
      const j = order[k + 1]!;
      if (isSuffix(bufOf(i), start[i]!, end[i]!, bufOf(j), start[j]!, end[j]!)) {
        host[i] = host[j]!;
        continue;
      }
    }
    host[i] = i;
  }
  const newOff = new Float64Array(n);
  let total = 0;
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    if (host[i] !== i) continue;
    newOff[i] = total;
    total += end[i]! - start[i]! + 1;
  }
  const bytes = new Uint8Array(total);
  // In the strings' old order: the source is read front to back.
  for (let i = 0; i < n; i++) {
    if (host[i] !== i) continue;
    const buf = bufOf(i);
    const s0 = start[i]!;
    const len = end[i]! - s0;
    const o = newOff[i]!;
    if (len > 64) bytes.set(buf.subarray(s0, s0 + len), o);
    else for (let b = 0; b < len; b++) bytes[o + b] = buf[s0 + b]!;
  }
  for (let i = 0; i < n; i++) {
    const h = host[i]!;
    if (h !== i) newOff[i] = newOff[h]! + (end[h]! - start[h]!) - (end[i]! - start[i]!);
  }
  return { bytes, mapped, newOffset: (old: number) => newOff[rank(old)]! };
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

function latin1(b: Uint8Array, s: number, e: number): string {
  return Buffer.from(b.buffer, b.byteOffset + s, e - s).toString('latin1');
}

/** True when string [as, ae) of `ab` is a suffix of string [bs, be) of `bb`. */
function isSuffix(ab: Uint8Array, as: number, ae: number, bb: Uint8Array, bs: number, be: number): boolean {
  const la = ae - as;
  if (la > be - bs) return false;
  if (la > 0 && ab[as] !== bb[be - la]) return false; // quick reject on the first byte
  for (let k = 1; k <= la; k++) if (ab[ae - k] !== bb[be - k]) return false;
  return true;
}

/** Compare two strings by their reversed bytes, from `depth` bytes before their ends. */
function compareReversed(ab: Uint8Array, as: number, ae: number, bb: Uint8Array, bs: number, be: number, depth = 0): number {
  let i = ae - 1 - depth;
  let j = be - 1 - depth;
  for (; i >= as && j >= bs; i--, j--) {
    const d = ab[i]! - bb[j]!;
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Sort `order` (indices into start/end, ascending) by reversed text, ties in index order. An MSD sort on chunks of the
 * reversed text: each bucket skips the bytes all its strings share, then packs the next 5 bytes
 * (4 when n > 2^24) with the bucket position into a 64-bit word and sorts those natively; runs
 * of equal chunks become the buckets of the next level. Strings hold no NUL, so 0 marks "ended"
 * and sorts first. Small buckets use insertion sort.
 */
function sortReversed(buf: Uint8Array, start: Uint32Array, end: Uint32Array, order: Uint32Array): void {
  const n = order.length;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const kb = n <= 1 << 24 ? 5 : 4;
  const idxMask = kb === 5 ? 0xffffff : 0xffffffff;
  const words = new BigUint64Array(n);
  const w = new Uint32Array(words.buffer);
  const HI = LITTLE_ENDIAN ? 1 : 0;
  const LO = 1 - HI;
  const tmp = new Uint32Array(n);
  const stack: number[] = [0, n, 0];
  const byteAt = (i: number, d: number) => {
    const p = end[i]! - 1 - d;
    return p >= start[i]! ? buf[p]! : 0;
  };
  while (stack.length > 0) {
    const depth = stack.pop()!;
    const hi = stack.pop()!;
    const lo = stack.pop()!;
    if (hi - lo < 16) {
      for (let a = lo + 1; a < hi; a++) {
        const x = order[a]!;
        let b = a - 1;
        while (b >= lo && compareReversed(buf, start[order[b]!]!, end[order[b]!]!, buf, start[x]!, end[x]!, depth) > 0) {
          order[b + 1] = order[b]!;
          b--;
        }
        order[b + 1] = x;
      }
      continue;
    }
    // Skip the bytes every string of the bucket shares (long common suffixes are the rule in
    // mangled names): one pass per up to 256 bytes, each string compared while its bytes are
    // in cache. If they all end there, they are equal and already in index order.
    let d = depth;
    for (;;) {
      const f = order[lo]!;
      const fEnd = end[f]! - 1;
      let common = Math.min(256, fEnd + 1 - start[f]! - d);
      for (let a = lo + 1; a < hi && common > 0; a++) {
        const i = order[a]!;
        const iEnd = end[i]! - 1;
        const c = Math.min(common, iEnd + 1 - start[i]! - d);
        let k = 0;
        // Four bytes at a time (the words end at the bytes compared), then byte by byte.
        while (k + 4 <= c && dv.getUint32(iEnd - d - k - 3) === dv.getUint32(fEnd - d - k - 3)) k += 4;
        while (k < c && buf[iEnd - d - k] === buf[fEnd - d - k]) k++;
        common = k;
      }
      if (common <= 0) break;
      d += common;
      if (common < 256) break;
    }
    if (byteAt(order[lo]!, d) === 0 && byteAt(order[hi - 1]!, d) === 0) {
      let allEnded = true;
      for (let a = lo + 1; a < hi - 1; a++) if (byteAt(order[a]!, d) !== 0) { allEnded = false; break; }
      if (allEnded) continue;
    }
    for (let a = lo; a < hi; a++) {
      const i = order[a]!;
      const s = start[i]!;
      let p = end[i]! - 1 - d;
      let h = 0;
      for (let k = 0; k < 4; k++, p--) h = (h << 8) | (p >= s ? buf[p]! : 0);
      w[2 * a + HI] = h >>> 0;
      w[2 * a + LO] = kb === 5 ? (((p >= s ? buf[p]! : 0) << 24) | (a - lo)) >>> 0 : a - lo;
    }
    words.subarray(lo, hi).sort();
    for (let a = lo; a < hi; a++) tmp[a] = order[lo + ((w[2 * a + LO]! & idxMask) >>> 0)]!;
    order.set(tmp.subarray(lo, hi), lo);
    // Runs of an equal chunk: strings that ended within it are equal; others go deeper.
    let g = lo;
    while (g < hi) {
      const h0 = w[2 * g + HI]!;
      const l0 = kb === 5 ? w[2 * g + LO]! >>> 24 : 0;
      let e = g + 1;
      while (e < hi && w[2 * e + HI] === h0 && (kb === 5 ? w[2 * e + LO]! >>> 24 : 0) === l0) e++;
      if (e - g > 1) {
        const ended = kb === 5 ? l0 === 0 : (h0 & 0xff) === 0; // the last byte of the chunk is past the start
        if (!ended) stack.push(g, e, d + kb);
      }
      g = e;
    }
  }
}

/** `--map-path` pairs as latin1 byte strings (UTF-8 encoded), longest `from` first. */
export interface PathMapper {
  map(s: string): string;
  readonly active: boolean;
  /** First bytes of the `from` prefixes (a string starting with none of them cannot map). */
  readonly firstBytes?: ReadonlySet<number>;
}

export function makePathMapper(pairs: readonly { from: string; to: string }[]): PathMapper {
  const enc = pairs
    .map((p) => ({ from: Buffer.from(p.from, 'utf8').toString('latin1'), to: Buffer.from(p.to, 'utf8').toString('latin1') }))
    .filter((p) => p.from.length > 0)
    .sort((a, b) => b.from.length - a.from.length);
  return {
    active: enc.length > 0,
    firstBytes: new Set(enc.map((p) => p.from.charCodeAt(0))),
    map(s: string): string {
      return mapPath(s, enc) ?? s;
    },
  };
}

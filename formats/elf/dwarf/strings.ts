// Canonical string tables for .debug_str and .debug_line_str. gcc lays these out in an
// order that depends on the text (a hash), so two builds mapped to one path still differ; the
// linker then merges tails. We rebuild each table from the set of strings that something
// references: strings that are a suffix of another share its tail (as ld's SHF_MERGE does),
// the rest are written in the bytewise order of their reversed text (the order in which the
// shared tails are found). The result depends on the set of strings alone.
import { mapPath } from '../../../src/map-path.js';
import { FormatError } from '../../../src/types.js';

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
        while (nul < size && table[nul] !== 0) nul++;
        if (nul >= size) throw new FormatError(`${what}: string at ${off} is not terminated`);
      }
      start[id] = off;
      end[id] = nul;
      id++;
    }
  }
  // Mapped strings get a copy of their new text after the table.
  let buf: Uint8Array = table;
  let mapped = 0;
  if (mapper.active) {
    const extra: Buffer[] = [];
    let extraSize = 0;
    for (let i = 0; i < n; i++) {
      if (table[start[i]!] !== 0x2f && !mapper.firstBytes?.has(table[start[i]!]!)) continue;
      const text = latin1(table, start[i]!, end[i]!);
      const m = mapper.map(text);
      if (m === text) continue;
      mapped++;
      const b = Buffer.from(m + '\0', 'latin1');
      start[i] = size + extraSize;
      end[i] = size + extraSize + b.length - 1;
      extra.push(b);
      extraSize += b.length;
    }
    if (extra.length > 0) {
      const all = new Uint8Array(size + extraSize);
      all.set(table, 0);
      let at = size;
      for (const b of extra) {
        all.set(b, at);
        at += b.length;
      }
      buf = all;
    }
  }
  const order = sortReversed(buf, start, end, n);
  // Walking the suffix order backwards, a string that is a suffix of its successor (equal
  // strings included) shares the successor's carrier.
  const host = new Int32Array(n);
  for (let k = n - 1; k >= 0; k--) {
    const i = order[k]!;
    if (k + 1 < n) {
      const j = order[k + 1]!;
      if (isSuffix(buf, start[i]!, end[i]!, start[j]!, end[j]!)) {
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
  const src = Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const dst = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    if (host[i] !== i) continue;
    const s0 = start[i]!;
    const len = end[i]! - s0;
    const o = newOff[i]!;
    if (len > 32) src.copy(dst, o, s0, s0 + len);
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

/** True when [as, ae) is a suffix of [bs, be). */
function isSuffix(buf: Uint8Array, as: number, ae: number, bs: number, be: number): boolean {
  const la = ae - as;
  if (la > be - bs) return false;
  if (la > 0 && buf[as] !== buf[be - la]) return false; // quick reject on the first byte
  for (let k = 1; k <= la; k++) if (buf[ae - k] !== buf[be - k]) return false;
  return true;
}

/** Compare two strings by their reversed bytes, from `depth` bytes before their ends. */
function compareReversed(buf: Uint8Array, as: number, ae: number, bs: number, be: number, depth: number): number {
  let i = ae - 1 - depth;
  let j = be - 1 - depth;
  for (; i >= as && j >= bs; i--, j--) {
    const d = buf[i]! - buf[j]!;
    if (d !== 0) return d;
  }
  return ae - as - (be - bs);
}

/** Indices 0..n-1 ordered by reversed text: MSD radix sort, insertion sort for small buckets. */
function sortReversed(buf: Uint8Array, start: Uint32Array, end: Uint32Array, n: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const tmp = new Uint32Array(n);
  const keys = new Uint16Array(n);
  const stack: number[] = [0, n, 0];
  const count = new Int32Array(257);
  const pos = new Int32Array(257);
  while (stack.length > 0) {
    const depth = stack.pop()!;
    const hi = stack.pop()!;
    const lo = stack.pop()!;
    if (hi - lo < 8) {
      for (let a = lo + 1; a < hi; a++) {
        const x = order[a]!;
        let b = a - 1;
        while (b >= lo && compareReversed(buf, start[order[b]!]!, end[order[b]!]!, start[x]!, end[x]!, depth) > 0) {
          order[b + 1] = order[b]!;
          b--;
        }
        order[b + 1] = x;
      }
      continue;
    }
    // Skip the bytes every string of the bucket shares (long common suffixes are the rule
    // in mangled names), then count the keys of the first byte that differs.
    let d = depth;
    let k0 = -1;
    for (;;) {
      const f = order[lo]!;
      const pf = end[f]! - 1 - d;
      k0 = pf >= start[f]! ? buf[pf]! + 1 : 0;
      if (k0 === 0) break;
      let same = true;
      for (let a = lo + 1; a < hi; a++) {
        const i = order[a]!;
        const p = end[i]! - 1 - d;
        if (p < start[i]! || buf[p]! + 1 !== k0) {
          same = false;
          break;
        }
      }
      if (!same) break;
      d++;
    }
    if (k0 === 0 && (() => {
      for (let a = lo + 1; a < hi; a++) if (end[order[a]!]! - 1 - d >= start[order[a]!]!) return false;
      return true;
    })()) continue; // all ended together: equal strings
    count.fill(0);
    for (let a = lo; a < hi; a++) {
      const i = order[a]!;
      const p = end[i]! - 1 - d;
      const k = p >= start[i]! ? buf[p]! + 1 : 0;
      keys[a] = k;
      count[k]!++;
    }
    let acc = lo;
    for (let k = 0; k < 257; k++) {
      pos[k] = acc;
      acc += count[k]!;
    }
    for (let a = lo; a < hi; a++) tmp[pos[keys[a]!]!++] = order[a]!;
    order.set(tmp.subarray(lo, hi), lo);
    // Bucket 0 holds strings that ended: all equal. Others go one byte deeper.
    let b0 = lo + count[0]!;
    for (let k = 1; k < 257; k++) {
      const c = count[k]!;
      if (c > 1) stack.push(b0, b0 + c, d + 1);
      b0 += c;
    }
  }
  return order;
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
